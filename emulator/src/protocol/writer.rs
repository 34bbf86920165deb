//! The one serializer of answers: handlers name the members of their operation's output shape as
//! the model names them (`LoadBalancerDescriptions`, `DNSName`), and the writer takes every wire
//! fact from the service model — EC2's `locationName`s and `<item>` lists, awsQuery's `<member>`
//! lists and map entries, JSON's member names, each protocol's timestamps and booleans.
//!
//! It writes straight into the body (no value tree is built), so it costs about what the
//! hand-written XML did. A member the shape does not have, or a value of the wrong type, fails the
//! request that wrote it with `InternalError` naming the mistake, in every build; in debug and test
//! builds a structure closed without one of its required members, or an enum value the model does
//! not list, fails it too — so a typo can never reach a client.

use std::fmt::Write as _;

use super::error::{AwsError, AwsResult};
use super::render::Output;
use super::service::{Protocol, ServiceId};
use std::sync::atomic::{AtomicU16, Ordering};

use crate::model::services::pool::MEMBER_COUNT;
use crate::model::{self, Kind, Member, ServiceModel, Shape};

/// Writes one answer of one operation.
pub struct Writer {
    service: ServiceId,
    model: &'static ServiceModel,
    protocol: Protocol,
    buf: String,
    stack: Vec<Frame>,
    /// The first mistake: the answer is refused when it is finished.
    error: Option<String>,
}

/// A structure being written.
struct Frame {
    shape: &'static Shape,
    /// Which members were written (by index; structures have fewer than 128 members in practice).
    written: u128,
    /// JSON: whether a member was written yet (for the commas).
    any: bool,
    /// Where the next member look-up looks first (see [`AFTER`]).
    next: usize,
    /// The last member written, by its place among all members.
    prev: Option<usize>,
}

impl Frame {
    /// Member `i` was written: remember it, and guess the next from what followed it last time.
    #[inline]
    fn seen(&mut self, i: usize) {
        // Only the debug builds' required-member check reads it.
        if cfg!(debug_assertions) && i < 128 {
            self.written |= 1 << i;
        }
        let g = self.shape.members_start() + i;
        self.prev = Some(g);
        self.next = match AFTER.get(g).map(|s| s.load(Ordering::Relaxed)) {
            Some(n) if n > 0 => usize::from(n) - 1,
            _ => i + 1,
        };
    }

    fn new(shape: &'static Shape) -> Frame {
        let first = FIRST
            .get(shape.members_start())
            .map_or(0, |s| s.load(Ordering::Relaxed));
        Frame {
            shape,
            written: 0,
            any: false,
            next: usize::from(first).saturating_sub(1),
            prev: None,
        }
    }
}

/// The member look-up's memory: after member `g` (its place among all the models' members),
/// `AFTER[g]` is one more than the member written next the last time, and `FIRST` the same for
/// the first member of a structure, by the place its members start. Handlers write a shape's
/// members in the same order every time — the model's order, or AWS's wire order where that
/// differs (EC2's instances) — so a look-up is mostly one comparison instead of a scan over up to
/// sixty members. Only speed depends on it: a wrong guess is followed by the full scan.
static AFTER: [AtomicU16; MEMBER_COUNT] = [const { AtomicU16::new(0) }; MEMBER_COUNT];
static FIRST: [AtomicU16; MEMBER_COUNT] = [const { AtomicU16::new(0) }; MEMBER_COUNT];

/// The scalar types handlers write, for the type check.
#[derive(Clone, Copy)]
enum Scalar {
    Str,
    Int,
    Float,
    Bool,
    Time,
}

impl Scalar {
    fn accepts(self, kind: Kind) -> bool {
        match self {
            Scalar::Str => matches!(kind, Kind::String | Kind::Blob),
            Scalar::Int => matches!(kind, Kind::Integer | Kind::Long),
            Scalar::Float => matches!(kind, Kind::Double | Kind::Float),
            Scalar::Bool => kind == Kind::Boolean,
            Scalar::Time => kind == Kind::Timestamp,
        }
    }
}

/// Whether `b` is one of `"` `&` `'` `<` `>`: all five lie in 0x22..=0x3E, so one subtraction
/// and one bit of a mask decide it.
fn special(b: u8) -> bool {
    const BASE: u8 = b'"';
    const MASK: u32 =
        1 | 1 << (b'&' - BASE) | 1 << (b'\'' - BASE) | 1 << (b'<' - BASE) | 1 << (b'>' - BASE);
    let i = b.wrapping_sub(BASE);
    i < 32 && MASK >> i & 1 == 1
}

/// Appends `text` with XML's five special characters escaped (`&lt;` `&gt;` `&amp;` `&apos;`
/// `&quot;`, as quick-xml's escaper writes them), straight into the body: most values have none,
/// and then this is one copy, with no intermediate string.
pub fn escape_into(buf: &mut String, text: &str) {
    // The usual case: nothing to escape. A scan without early exit, which the compiler
    // vectorises (values are short: a search library's set-up costs more than it saves).
    if !text.bytes().fold(false, |any, b| any | special(b)) {
        buf.push_str(text);
        return;
    }
    let mut done = 0;
    for (i, b) in text.bytes().enumerate() {
        if !special(b) {
            continue;
        }
        let entity = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'\'' => "&apos;",
            b'"' => "&quot;",
            _ => continue,
        };
        // `i` is an ASCII byte's place, so both slices end on character boundaries.
        buf.push_str(&text[done..i]);
        buf.push_str(entity);
        done = i + 1;
    }
    buf.push_str(&text[done..]);
}

impl Writer {
    /// A writer for the output of `service`'s `action`; `None` when the model gives the operation
    /// no output.
    pub fn for_output(service: ServiceId, action: &str) -> Option<Writer> {
        let model = model::of(service);
        let shape = model.shape(model.op(action)?.output?);
        Some(Writer::new(service, shape))
    }

    /// A writer positioned on the structure `shape` of `service`'s model.
    pub fn new(service: ServiceId, shape: &'static Shape) -> Writer {
        let protocol = service.protocol();
        let mut w = Writer {
            service,
            model: model::of(service),
            protocol,
            buf: String::with_capacity(512),
            stack: Vec::with_capacity(8),
            error: None,
        };
        if protocol == Protocol::AwsJson {
            w.buf.push('{');
        }
        w.stack.push(Frame::new(shape));
        w
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    fn json(&self) -> bool {
        self.protocol == Protocol::AwsJson
    }

    /// The member `name` of the structure being written, marked written. The guessed member is
    /// checked here, inline in every writing method; the scan, the learning and the error are out
    /// of line ([`Writer::member_scan`]), so the usual call stays a few instructions.
    #[inline]
    fn member(&mut self, name: &str) -> Option<&'static Member> {
        let frame = self.stack.last_mut()?;
        let guess = frame.next;
        match frame.shape.members().get(guess) {
            Some(m) if m.is(name) => {
                frame.seen(guess);
                Some(m)
            }
            _ => self.member_scan(name),
        }
    }

    /// [`Writer::member`] when the guess was wrong: the whole scan, and the guess learnt.
    #[cold]
    #[inline(never)]
    fn member_scan(&mut self, name: &str) -> Option<&'static Member> {
        let frame = self.stack.last_mut()?;
        let shape = frame.shape;
        let members = shape.members();
        match members.iter().position(|m| m.is(name)) {
            Some(i) => {
                let slot = match frame.prev {
                    Some(g) => AFTER.get(g),
                    None => FIRST.get(shape.members_start()),
                };
                if let (Some(slot), Ok(v)) = (slot, u16::try_from(i + 1)) {
                    slot.store(v, Ordering::Relaxed);
                }
                frame.seen(i);
                members.get(i)
            }
            None => {
                // The one nameless shape is the output of an operation the model gives none.
                let owner = Some(shape.name()).filter(|n| !n.is_empty());
                let msg = format!("{} has no member {name}", owner.unwrap_or("(no output)"));
                self.fail(msg);
                None
            }
        }
    }

    /// Opens member `m`: `<xml>` or `"Name":`.
    fn open(&mut self, m: &Member) {
        if self.json() {
            self.comma();
            self.json_str(m.name());
            self.buf.push(':');
        } else {
            self.buf.push_str(m.open_tag());
        }
    }

    fn close(&mut self, m: &Member) {
        if !self.json() {
            self.buf.push_str(m.close_tag());
        }
    }

    fn comma(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            if f.any {
                self.buf.push(',');
            }
            f.any = true;
        }
    }

    fn tag_open(&mut self, tag: &str) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
    }

    fn tag_close(&mut self, tag: &str) {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
    }

    fn json_str(&mut self, s: &str) {
        // serde_json's escaping of a string cannot fail.
        let _ = serde_json::to_writer(utf8_sink(&mut self.buf), s);
    }

    /// Checks that member `m` holds a `scalar`, and in debug builds that a string is one of its
    /// enum's values.
    fn check(&mut self, m: &Member, scalar: Scalar, text: Option<&str>) -> bool {
        let shape = self.model.shape(m.shape);
        if !scalar.accepts(shape.kind) {
            let msg = format!(
                "member {} is a {}, not what was written",
                m.name(),
                shape.kind.name()
            );
            self.fail(msg);
            return false;
        }
        if cfg!(debug_assertions) {
            if let Some(t) = text {
                if shape.is_enum() && !shape.enums().any(|e| e == t) {
                    let msg = format!("'{t}' is not a value of {} ({})", shape.name(), m.name());
                    self.fail(msg);
                }
            }
        }
        true
    }

    /// Writes a scalar's text: escaped in XML, quoted (strings) or bare (numbers) in JSON.
    fn text(&mut self, text: &str, quoted: bool) {
        if self.json() {
            if quoted {
                self.json_str(text);
            } else {
                self.buf.push_str(text);
            }
        } else if quoted {
            escape_into(&mut self.buf, text);
        } else {
            // Numbers and booleans: nothing to escape.
            self.buf.push_str(text);
        }
    }

    fn scalar(&mut self, name: &str, scalar: Scalar, text: &str, quoted: bool) -> &mut Self {
        let Some(m) = self.member(name) else {
            return self;
        };
        if self.check(m, scalar, Some(text).filter(|_| quoted)) {
            self.open(m);
            self.text(text, quoted);
            self.close(m);
        }
        self
    }

    /// A string (or enum, or base64 blob) member.
    pub fn str(&mut self, name: &str, v: impl AsRef<str>) -> &mut Self {
        self.scalar(name, Scalar::Str, v.as_ref(), true)
    }

    /// A string member whose value AWS sends although the model's enum does not list it (an
    /// internet gateway attachment's `available`): the enum check is skipped, the type check is not.
    pub fn str_unlisted(&mut self, name: &str, v: impl AsRef<str>) -> &mut Self {
        let Some(m) = self.member(name) else {
            return self;
        };
        if self.check(m, Scalar::Str, None) {
            self.open(m);
            self.text(v.as_ref(), true);
            self.close(m);
        }
        self
    }

    /// A string member when there is a value: AWS leaves absent members out.
    pub fn str_opt<T: AsRef<str>>(&mut self, name: &str, v: Option<T>) -> &mut Self {
        if let Some(v) = v {
            self.str(name, v);
        }
        self
    }

    /// An integer or long member.
    pub fn int(&mut self, name: &str, v: i64) -> &mut Self {
        // Written straight into the body: no text is made for a number.
        let Some(m) = self.member(name) else {
            return self;
        };
        if self.check(m, Scalar::Int, None) {
            self.open(m);
            let _ = write!(self.buf, "{v}");
            self.close(m);
        }
        self
    }

    pub fn int_opt(&mut self, name: &str, v: Option<i64>) -> &mut Self {
        if let Some(v) = v {
            self.int(name, v);
        }
        self
    }

    /// A double or float member.
    pub fn float(&mut self, name: &str, v: f64) -> &mut Self {
        self.scalar(name, Scalar::Float, &v.to_string(), false)
    }

    /// A boolean member (`true` / `false` in every protocol).
    pub fn bool(&mut self, name: &str, v: bool) -> &mut Self {
        self.scalar(name, Scalar::Bool, if v { "true" } else { "false" }, false)
    }

    pub fn bool_opt(&mut self, name: &str, v: Option<bool>) -> &mut Self {
        if let Some(v) = v {
            self.bool(name, v);
        }
        self
    }

    /// A timestamp member from virtual milliseconds, in the service's own format (JSON: epoch
    /// seconds with the milliseconds as the fraction).
    pub fn time(&mut self, name: &str, ms: i64) -> &mut Self {
        let Some(m) = self.member(name) else {
            return self;
        };
        if self.check(m, Scalar::Time, None) {
            self.open(m);
            write_timestamp(&mut self.buf, self.service, ms);
            self.close(m);
        }
        self
    }

    pub fn time_opt(&mut self, name: &str, ms: Option<i64>) -> &mut Self {
        if let Some(ms) = ms {
            self.time(name, ms);
        }
        self
    }

    /// A structure member, whose members `body` writes.
    pub fn structure(&mut self, name: &str, body: impl FnOnce(&mut Writer)) -> &mut Self {
        let Some(m) = self.member(name) else {
            return self;
        };
        let shape = self.model.shape(m.shape);
        if shape.kind != Kind::Structure {
            self.fail(format!(
                "member {name} is a {}, not a structure",
                shape.kind.name()
            ));
            return self;
        }
        self.open(m);
        self.nested(shape, body);
        self.close(m);
        self
    }

    /// Writes the members of `shape` through `body`, between `{` `}` in JSON.
    fn nested(&mut self, shape: &'static Shape, body: impl FnOnce(&mut Writer)) {
        if self.json() {
            self.buf.push('{');
        }
        self.stack.push(Frame::new(shape));
        body(self);
        self.end_frame();
        if self.json() {
            self.buf.push('}');
        }
    }

    /// Leaves a structure; in debug builds its required members must have been written.
    fn end_frame(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if cfg!(debug_assertions) {
            for (i, m) in frame.shape.members().iter().enumerate() {
                if m.required && i < 128 && frame.written & (1 << i) == 0 {
                    let msg = format!(
                        "{} was written without its required {}",
                        frame.shape.name(),
                        m.name()
                    );
                    self.fail(msg);
                }
            }
        }
    }

    /// The list shape of member `name`, opened; `None` (after recording why) when it is not a
    /// list of `item` kind.
    fn open_list(
        &mut self,
        name: &str,
        item: Option<Kind>,
    ) -> Option<(&'static Member, &'static Shape)> {
        let m = self.member(name)?;
        let list = self.model.shape(m.shape);
        let item_kind = self.model.shape(list.item).kind;
        let ok = list.kind == Kind::List
            && match item {
                Some(k) => k == item_kind,
                None => matches!(item_kind, Kind::String | Kind::Integer | Kind::Long),
            };
        if !ok {
            self.fail(format!("member {name} is not a list of what was written"));
            return None;
        }
        if self.json() {
            self.open(m);
            self.buf.push('[');
        } else if !list.flattened {
            self.buf.push_str(m.open_tag());
        }
        Some((m, list))
    }

    fn close_list(&mut self, m: &Member, list: &Shape) {
        if self.json() {
            self.buf.push(']');
        } else if !list.flattened {
            self.buf.push_str(m.close_tag());
        }
    }

    /// The element of one list entry: `<item>` / `<member>` (or the member's own name when the
    /// list is flattened); a comma between JSON entries.
    fn entry_open(&mut self, m: &Member, list: &Shape, first: bool) {
        if self.json() {
            if !first {
                self.buf.push(',');
            }
        } else if list.flattened {
            self.buf.push_str(m.open_tag());
        } else {
            self.buf.push_str(list.item_open_tag());
        }
    }

    fn entry_close(&mut self, m: &Member, list: &Shape) {
        if !self.json() {
            self.buf.push_str(if list.flattened {
                m.close_tag()
            } else {
                list.item_close_tag()
            });
        }
    }

    /// A list of structures: `each` writes the members of one entry. An empty list is written (as
    /// `<tagSet/>`-like empty element or `[]`): call it only when AWS sends the member.
    pub fn list<I, T>(
        &mut self,
        name: &str,
        items: I,
        mut each: impl FnMut(&mut Writer, T),
    ) -> &mut Self
    where
        I: IntoIterator<Item = T>,
    {
        let Some((m, list)) = self.open_list(name, Some(Kind::Structure)) else {
            return self;
        };
        let item_shape = self.model.shape(list.item);
        for (i, item) in items.into_iter().enumerate() {
            self.entry_open(m, list, i == 0);
            self.nested(item_shape, |w| each(w, item));
            self.entry_close(m, list);
        }
        self.close_list(m, list);
        self
    }

    /// A list of strings (or enum values).
    pub fn strs<I, T>(&mut self, name: &str, items: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let Some((m, list)) = self.open_list(name, Some(Kind::String)) else {
            return self;
        };
        for (i, item) in items.into_iter().enumerate() {
            self.entry_open(m, list, i == 0);
            self.text(item.as_ref(), true);
            self.entry_close(m, list);
        }
        self.close_list(m, list);
        self
    }

    /// A list of integers.
    pub fn ints<I: IntoIterator<Item = i64>>(&mut self, name: &str, items: I) -> &mut Self {
        let Some((m, list)) = self.open_list(name, None) else {
            return self;
        };
        for (i, item) in items.into_iter().enumerate() {
            self.entry_open(m, list, i == 0);
            let _ = write!(self.buf, "{item}");
            self.entry_close(m, list);
        }
        self.close_list(m, list);
        self
    }

    /// A map of strings to strings: awsQuery `<entry><key/><value/></entry>`, JSON an object.
    pub fn map<I, K, V>(&mut self, name: &str, entries: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let Some(m) = self.member(name) else {
            return self;
        };
        let map = self.model.shape(m.shape);
        if map.kind != Kind::Map {
            self.fail(format!("member {name} is not a map"));
            return self;
        }
        self.open(m);
        if self.json() {
            self.buf.push('{');
        }
        for (i, (k, v)) in entries.into_iter().enumerate() {
            if self.json() {
                if i > 0 {
                    self.buf.push(',');
                }
                self.json_str(k.as_ref());
                self.buf.push(':');
                self.json_str(v.as_ref());
            } else {
                if !map.flattened {
                    self.tag_open("entry");
                }
                self.tag_open(map.item_name());
                self.text(k.as_ref(), true);
                self.tag_close(map.item_name());
                self.tag_open(map.value_name());
                self.text(v.as_ref(), true);
                self.tag_close(map.value_name());
                if !map.flattened {
                    self.tag_close("entry");
                }
            }
        }
        if self.json() {
            self.buf.push('}');
        }
        self.close(m);
        self
    }

    /// EC2's `<return>true</return>` in an answer whose output shape has no `Return` member
    /// although AWS writes one: CreateSecurityGroup answers `<return>true</return><groupId>…`
    /// (the EC2 API reference's example answer). Only at the top of an EC2 answer, and only when
    /// the shape lacks `Return` (where it has one, `bool("Return", true)` writes it).
    pub fn ec2_unmodeled_return(&mut self) -> &mut Self {
        let shape = self.stack.last().map(|f| f.shape);
        let fits = self.protocol == Protocol::Ec2Query
            && self.stack.len() == 1
            && shape.is_some_and(|s| s.member("Return").is_none());
        if fits {
            self.buf.push_str("<return>true</return>");
        } else {
            let name = shape.map(|s| s.name()).unwrap_or("");
            self.fail(format!(
                "an unmodelled <return> does not belong in {name} (write its Return member)"
            ));
        }
        self
    }

    /// The finished answer, or `InternalError` when anything written did not fit the model.
    pub fn finish(mut self) -> AwsResult<Output> {
        self.end_frame();
        if let Some(e) = self.error.take() {
            tracing::error!(service = %self.service, "answer does not fit the model: {e}");
            return Err(AwsError::new(
                "InternalError",
                format!("awsemu wrote an answer that does not fit the model: {e}"),
                500,
            ));
        }
        Ok(match self.protocol {
            Protocol::AwsJson => {
                self.buf.push('}');
                Output::JsonText(self.buf)
            }
            _ if self.buf.is_empty() => Output::XmlEmpty,
            _ => Output::Xml(self.buf),
        })
    }
}

/// A `String` as an `io::Write` sink for serde_json, which writes only valid UTF-8 (no copy
/// through a temporary `Vec<u8>`).
fn utf8_sink(s: &mut String) -> impl std::io::Write + '_ {
    struct W<'a>(&'a mut String);
    impl std::io::Write for W<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            match std::str::from_utf8(b) {
                Ok(s) => {
                    self.0.push_str(s);
                    Ok(b.len())
                }
                Err(_) => Err(std::io::Error::other("not UTF-8")),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    W(s)
}

/// A timestamp as `service` writes it: EC2, classic ELB, Auto Scaling and STS to the second with
/// `.000Z`; ELBv2 with its milliseconds; IAM to the second with a bare `Z`; the JSON services as
/// epoch seconds.
pub fn timestamp(service: ServiceId, ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_timestamp(&mut out, service, ms);
    out
}

/// [`timestamp`], appended to `buf` with no string of its own (answers carry one per resource).
pub fn write_timestamp(buf: &mut String, service: ServiceId, ms: i64) {
    let secs = ms.div_euclid(1000);
    match service {
        ServiceId::Kms | ServiceId::Ecr => {
            let _ = write!(buf, "{}", ms as f64 / 1000.0);
        }
        ServiceId::Iam => crate::timefmt::write_iso8601(buf, secs, None),
        ServiceId::Elbv2 => {
            crate::timefmt::write_iso8601(buf, secs, Some(ms.rem_euclid(1000) as u32))
        }
        _ => crate::timefmt::write_iso8601(buf, secs, Some(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(out: AwsResult<Output>) -> String {
        match out {
            Ok(Output::Xml(s)) | Ok(Output::JsonText(s)) => s,
            Ok(Output::XmlEmpty) => String::new(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timestamps_match_the_general_formatting() {
        for ms in [
            0i64,
            1_700_000_000_123,
            1_700_000_000_000,
            253_402_300_799_999,
            -1,
            86_399_999,
        ] {
            let (y, mo, d, h, mi, s) = crate::timefmt::split(ms.div_euclid(1000));
            let f = ms.rem_euclid(1000);
            let base = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            assert_eq!(
                timestamp(ServiceId::Ec2, ms),
                format!("{base}.000Z"),
                "{ms}"
            );
            assert_eq!(timestamp(ServiceId::Iam, ms), format!("{base}Z"), "{ms}");
            assert_eq!(
                timestamp(ServiceId::Elbv2, ms),
                format!("{base}.{f:03}Z"),
                "{ms}"
            );
        }
        assert_eq!(timestamp(ServiceId::Kms, 1_700_000_000_500), "1700000000.5");
        // A year past 9999 takes the general path.
        assert!(timestamp(ServiceId::Ec2, 253_402_300_800_000).starts_with("10000-01-01T"));
    }

    #[test]
    fn escaping_is_quick_xmls() {
        for text in ["", "plain", "a<b>&'\"c", "<<", "é & ü", "end&"] {
            let mut buf = String::from("x");
            escape_into(&mut buf, text);
            assert_eq!(
                buf,
                format!("x{}", quick_xml::escape::escape(text)),
                "{text}"
            );
        }
    }

    #[test]
    fn ec2_answers_take_location_names_and_items() {
        let mut w = Writer::for_output(ServiceId::Ec2, "DescribeRegions").unwrap();
        w.list("Regions", ["us-east-1"], |w, r| {
            w.str("RegionName", r)
                .str("Endpoint", "ec2.us-east-1.amazonaws.com");
        });
        assert_eq!(
            body(w.finish()),
            "<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item></regionInfo>"
        );
    }

    #[test]
    fn query_answers_take_member_lists_and_map_entries() {
        let mut w = Writer::for_output(ServiceId::Elb, "DescribeLoadBalancers").unwrap();
        w.list("LoadBalancerDescriptions", [1], |w, _| {
            w.str("LoadBalancerName", "a<b")
                .strs("AvailabilityZones", ["us-east-1a"]);
        });
        assert_eq!(
            body(w.finish()),
            "<LoadBalancerDescriptions><member><LoadBalancerName>a&lt;b</LoadBalancerName><AvailabilityZones><member>us-east-1a</member></AvailabilityZones></member></LoadBalancerDescriptions>"
        );
        let mut w = Writer::for_output(ServiceId::Sts, "GetCallerIdentity").unwrap();
        w.str("Account", "1");
        assert_eq!(body(w.finish()), "<Account>1</Account>");
    }

    #[test]
    fn json_answers_are_objects_of_member_names() {
        let mut w = Writer::for_output(ServiceId::Kms, "DescribeKey").unwrap();
        w.structure("KeyMetadata", |w| {
            w.str("KeyId", "k\"1")
                .bool("Enabled", true)
                .time("CreationDate", 1500);
        });
        let v: serde_json::Value = serde_json::from_str(&body(w.finish())).unwrap();
        assert_eq!(v["KeyMetadata"]["KeyId"], "k\"1");
        assert_eq!(v["KeyMetadata"]["Enabled"], true);
        assert_eq!(v["KeyMetadata"]["CreationDate"], 1.5);
    }

    /// JSON lists of structures and of strings, an empty list, nested structures and members
    /// left out: what the KMS and ECR answers are made of.
    #[test]
    fn json_lists_and_nested_structures() {
        let mut w = Writer::for_output(ServiceId::Ecr, "BatchGetImage").unwrap();
        w.list("images", ["sha256:a", "sha256:b"], |w, d| {
            w.str("repositoryName", "r").structure("imageId", |w| {
                w.str("imageDigest", d).str_opt("imageTag", None::<&str>);
            });
        })
        .list("failures", Vec::<()>::new(), |_, _| {});
        let text = body(w.finish());
        assert_eq!(
            text,
            r#"{"images":[{"repositoryName":"r","imageId":{"imageDigest":"sha256:a"}},{"repositoryName":"r","imageId":{"imageDigest":"sha256:b"}}],"failures":[]}"#
        );
        let mut w = Writer::for_output(ServiceId::Kms, "ListKeys").unwrap();
        w.list("Keys", Vec::<()>::new(), |_, _| {})
            .bool("Truncated", false);
        assert_eq!(body(w.finish()), r#"{"Keys":[],"Truncated":false}"#);
        let mut w = Writer::for_output(ServiceId::Kms, "DescribeKey").unwrap();
        w.structure("KeyMetadata", |w| {
            w.str("KeyId", "k")
                .strs("EncryptionAlgorithms", ["SYMMETRIC_DEFAULT"])
                .structure("MultiRegionConfiguration", |w| {
                    w.list("ReplicaKeys", Vec::<()>::new(), |_, _| {});
                });
        });
        assert_eq!(
            body(w.finish()),
            r#"{"KeyMetadata":{"KeyId":"k","EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegionConfiguration":{"ReplicaKeys":[]}}}"#
        );
        // An operation without an output shape answers an empty object.
        let w = Writer::new(ServiceId::Kms, &crate::model::NO_MEMBERS);
        assert_eq!(body(w.finish()), "{}");
    }

    #[test]
    fn mistakes_fail_the_answer() {
        let mut w = Writer::for_output(ServiceId::Elb, "DescribeLoadBalancers").unwrap();
        w.str("LoadBalancerNmae", "x");
        let e = w.finish().unwrap_err();
        assert_eq!(e.status, 500);
        assert!(e.message.contains("LoadBalancerNmae"), "{}", e.message);
        let mut w = Writer::for_output(ServiceId::Elb, "DescribeLoadBalancers").unwrap();
        w.int("NextMarker", 3);
        assert!(w.finish().is_err());
        // Required members (debug builds): KeyMetadata needs KeyId.
        let mut w = Writer::for_output(ServiceId::Kms, "DescribeKey").unwrap();
        w.structure("KeyMetadata", |w| {
            w.bool("Enabled", true);
        });
        assert!(w.finish().unwrap_err().message.contains("KeyId"));
    }

    #[test]
    fn unlisted_values_skip_only_the_enum_check() {
        let mut w = Writer::for_output(ServiceId::Ec2, "DescribeInternetGateways").unwrap();
        w.list("InternetGateways", [()], |w, _| {
            w.list("Attachments", [()], |w, _| {
                w.str_unlisted("State", "available");
            });
        });
        assert!(body(w.finish()).contains("<state>available</state>"));
    }

    #[test]
    fn unmodelled_return_only_where_the_shape_lacks_one() {
        let mut w = Writer::for_output(ServiceId::Ec2, "CreateSecurityGroup").unwrap();
        w.ec2_unmodeled_return().str("GroupId", "sg-1");
        assert_eq!(
            body(w.finish()),
            "<return>true</return><groupId>sg-1</groupId>"
        );
        // DeleteSecurityGroup's shape has Return: the model's member must be used.
        let mut w = Writer::for_output(ServiceId::Ec2, "DeleteSecurityGroup").unwrap();
        w.ec2_unmodeled_return();
        assert!(w.finish().is_err());
        // Not inside a structure, nor outside EC2.
        let mut w = Writer::for_output(ServiceId::Ec2, "DescribeRouteTables").unwrap();
        w.list("RouteTables", [()], |w, _| {
            w.ec2_unmodeled_return();
        });
        assert!(w.finish().is_err());
        let mut w = Writer::for_output(ServiceId::Sts, "GetCallerIdentity").unwrap();
        w.ec2_unmodeled_return();
        assert!(w.finish().is_err());
    }

    #[test]
    fn empty_lists_are_written_when_asked() {
        let mut w = Writer::for_output(ServiceId::Ec2, "DescribeRouteTables").unwrap();
        w.list("RouteTables", [()], |w, _| {
            w.str("RouteTableId", "rtb-1")
                .list("Tags", Vec::<()>::new(), |_, _| {});
        });
        assert!(body(w.finish()).contains("<tagSet></tagSet>"));
    }
}
