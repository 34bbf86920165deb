//! Pagination over a sorted result list: EC2's `MaxResults` / `NextToken` and the ELB APIs'
//! `PageSize` / `Marker` (answered with `NextMarker`).
//!
//! The token is an opaque encoding of the offset of the next item; results are sorted by id, so
//! paging a list that does not change returns every item exactly once.

use crate::protocol::constraints::Constraints;
use crate::protocol::{AwsError, AwsResult, Scope};

const TOKEN_PREFIX: &str = "awsemu-";

fn bad_token(token: &str) -> AwsError {
    AwsError::invalid_value(format!("The token '{token}' is invalid."))
}

/// One page of `items`: `max` items from the token's position (all when `max` is `None`), and the
/// token of the next page when there is one. `bounds` is AWS's allowed `MaxResults` range.
pub fn page<T>(
    items: Vec<T>,
    max: Option<i64>,
    token: Option<&str>,
    bounds: (i64, i64),
) -> AwsResult<(Vec<T>, Option<String>)> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|n| usize::from_str_radix(n, 16).ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| bad_token(t))?,
    };
    let Some(max) = max else {
        return Ok((items.into_iter().skip(start).collect(), None));
    };
    if max < bounds.0 || max > bounds.1 {
        return Err(AwsError::invalid_value(format!(
            "Value ( {max} ) for parameter maxResults is invalid. Expecting a value between {} and {}.",
            bounds.0, bounds.1
        )));
    }
    let end = start.saturating_add(max as usize).min(items.len());
    let next = (end < items.len()).then(|| format!("{TOKEN_PREFIX}{end:x}"));
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

/// `MaxResults`/`NextToken` as the Describe calls take them (5–1000 unless the action
/// says otherwise), read with the rest of the input and applied to the sorted result list.
pub struct Page<'a> {
    max: Option<i64>,
    token: Option<&'a str>,
    bounds: (i64, i64),
    /// `PageSize`/`Marker` (ELB): a bad size is a `ValidationError` in the Coral wording.
    marker_style: bool,
}

impl<'a> Page<'a> {
    pub fn read(p: &Scope<'a>) -> AwsResult<Page<'a>> {
        Ok(Page {
            max: p.int("MaxResults")?,
            token: p.str("NextToken"),
            bounds: (5, 1000),
            marker_style: false,
        })
    }

    /// `PageSize` (1–400, default 400 as AWS documents) and `Marker`, as both ELB APIs take them;
    /// the next page's marker goes in `NextMarker`.
    pub fn read_marker(p: &Scope<'a>) -> AwsResult<Page<'a>> {
        Ok(Page {
            max: Some(p.int("PageSize")?.unwrap_or(400)),
            token: p.str("Marker"),
            bounds: (1, 400),
            marker_style: true,
        })
    }

    /// Whether the caller asked for pages (`MaxResults` given): AWS refuses that beside explicit ids.
    pub fn limited(&self) -> bool {
        self.max.is_some()
    }

    /// EC2's refusal of `MaxResults` beside explicit ids; `set` is the ids' wire list name
    /// (`volumeSet`, `instancesSet`).
    pub fn not_with_ids<T>(&self, ids: &[T], set: &str) -> crate::protocol::AwsResult<()> {
        if self.limited() && !ids.is_empty() {
            return Err(crate::protocol::AwsError::invalid_combination(format!(
                "The parameter {set} cannot be used with the parameter maxResults"
            )));
        }
        Ok(())
    }

    /// Other `MaxResults` bounds than the common 5..=1000.
    pub fn between(mut self, min: i64, max: i64) -> Self {
        self.bounds = (min, max);
        self
    }

    /// A lower upper bound for `MaxResults` (DescribeRouteTables allows 100).
    pub fn at_most(mut self, max: i64) -> Self {
        self.bounds.1 = max;
        self
    }

    /// A larger `MaxResults` than `hi` is served as `hi` instead of refused (DescribeSnapshots).
    pub fn capped(mut self, hi: i64) -> Self {
        self.max = self.max.map(|m| m.min(hi));
        self
    }

    /// `MaxResults=0` means no limit (DescribeSnapshots, which the EBS CSI driver calls so).
    pub fn zero_unlimited(mut self) -> Self {
        if self.max == Some(0) {
            self.max = None;
        }
        self
    }

    pub fn apply<T>(&self, items: Vec<T>) -> AwsResult<(Vec<T>, Option<String>)> {
        if self.marker_style {
            let (lo, hi) = self.bounds;
            Constraints::new()
                .range("pageSize", self.max, lo, hi)
                .check()?;
            return page(items, self.max, self.token, self.bounds).map_err(|e| {
                AwsError::bad_request("ValidationError", e.message.replace("token", "marker"))
            });
        }
        page(items, self.max, self.token, self.bounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_everything_once() {
        let items: Vec<u32> = (0..23).collect();
        let mut token = None;
        let mut seen = Vec::new();
        loop {
            let (p, next) = page(items.clone(), Some(5), token.as_deref(), (5, 1000)).unwrap();
            seen.extend(p);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, items);
        assert!(page(items.clone(), Some(4), None, (5, 1000)).is_err());
        assert!(page(items.clone(), Some(5), Some("garbage"), (5, 1000)).is_err());
        assert_eq!(page(items, None, None, (5, 1000)).unwrap().0.len(), 23);
    }
}
