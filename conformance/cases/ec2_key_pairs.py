"""EC2 key pairs, account attributes, reboots and Spot requests: what rancher/machine's amazonec2
driver calls.

Fingerprints are computed here from the key material, independently of the emulator: DER is
written by hand from the SSH blob (RSA: SubjectPublicKeyInfo, then MD5; PKCS#8 around a created
key's PKCS#1, then SHA-1), ED25519 is SHA-256 of the blob. The fixed keys were made by ssh-keygen
and their fingerprints computed with ssh-keygen and openssl, as the EC2 user guide does.
"""

import base64
import hashlib
import json
import struct
import urllib.request

from harness import eq, has, one, true

# ssh-keygen -t rsa -b 2048 / -t ed25519, and their fingerprints:
#   ssh-keygen -e -m PKCS8 -f rsa.pub | openssl pkey -pubin -outform DER | openssl md5 -c
#   ssh-keygen -l -E sha256 -f ed.pub  (EC2 adds the base64 padding)
RSA_PUB = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCnbKAWwrmcH6wc827CyBy8JKluQUe/TPPKJwfYCbIXoaws8K517wcidgzrlRJqSOvsh8gCFcEKB9GtHhRP/m1YYJpgugBMyRmfpf7f7v38vbzUiiBSiuLnRVA1FtuUTHU4QMhIbJd3gdwhZeNLQjGZGQQ/iiIDXdTuHNWjxXJ+KfLO5KPzK1XrrMbO7Bi7netoxsG+QzzhsvsTupWYaEfj0Wz6TpxFA0w8BBzLAKT9otwgjb9LySFPPLTUcX/yvuB1SnJ26tf8UVrNyTKUCnlIKVzs5/MmF9j+oYDK8uO+tYtjL9mUnEiBCKnT1JoeL1IaJdkgMKRmgUJeQft3i5hF rsa@awsemu"
RSA_MD5 = "47:28:f8:05:72:7e:e5:21:71:89:b9:06:19:b1:22:ba"
ED_PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKesxsar1Q09OgImx30+GbatyqLH/zQHI8bFIPiJuUja test@awsemu"
ED_SHA256 = "7J/+rrave0z4U0tmVQL/PiGULP/wg0Ejdnd+MZZDy8g="
# A valid ECDSA key line, which EC2 does not take.
ECDSA_PUB = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJRn3NPU6sGGXP69JXMKWclaqpFieYUGr+C9v3liYaavxSa1Xh9/P6rLAjKYljqaPhFDKlFWCmsF5Rnt1+oRdgU= e@x"


# --- SSH and DER, by hand ----------------------------------------------------------------------

def ssh_strings(blob):
    out = []
    while blob:
        (n,) = struct.unpack(">I", blob[:4])
        out.append(blob[4:4 + n])
        blob = blob[4 + n:]
    return out


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(i):
    b = i.to_bytes(i.bit_length() // 8 + 1, "big")  # a leading 0 keeps it positive
    return der(0x02, b)


RSA_ALG = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")


def spki_of_ssh_rsa(line):
    _, e, n = ssh_strings(base64.b64decode(line.split()[1]))
    rsapub = der(0x30, der_int(int.from_bytes(n, "big")) + der_int(int.from_bytes(e, "big")))
    return der(0x30, RSA_ALG + der(0x03, b"\x00" + rsapub))


def colon(digest):
    return ":".join(f"{b:02x}" for b in digest)


def der_parse(b):
    """One TLV: (tag, body, rest)."""
    tag, n, i = b[0], b[1], 2
    if n & 0x80:
        k = n & 0x7F
        n, i = int.from_bytes(b[2:2 + k], "big"), 2 + k
    return tag, b[i:i + n], b[i + n:]


def pem_body(text, label):
    lines = text.strip().splitlines()
    eq(lines[0], f"-----BEGIN {label}-----", "PEM header")
    eq(lines[-1], f"-----END {label}-----", "PEM footer")
    return base64.b64decode("".join(lines[1:-1]))


def check_rsa_private(pem, fingerprint, public_line):
    """A PKCS#1 key that is a real RSA key, whose PKCS#8 SHA-1 is `fingerprint` and whose public
    half is `public_line`."""
    pkcs1 = pem_body(pem, "RSA PRIVATE KEY")
    tag, body, rest = der_parse(pkcs1)
    eq((tag, rest), (0x30, b""), "one SEQUENCE")
    ints = []
    while body:
        tag, v, body = der_parse(body)
        eq(tag, 0x02, "INTEGER")
        ints.append(int.from_bytes(v, "big"))
    version, n, e, d, p, q, dp, dq, qinv = ints
    eq(version, 0, "two-prime")
    eq(n.bit_length(), 2048, "2048 bits")
    eq(p * q, n, "n = pq")
    eq((e * d) % ((p - 1) * (q - 1) // __import__("math").gcd(p - 1, q - 1)), 1, "ed = 1 mod lcm")
    eq((dp, dq, (qinv * q) % p), (d % (p - 1), d % (q - 1), 1), "CRT values")
    msg = 0x1234567890ABCDEF
    eq(pow(pow(msg, e, n), d, n), msg, "encrypt/decrypt round trip")
    pkcs8 = der(0x30, der_int(0) + RSA_ALG + der(0x04, pkcs1))
    eq(fingerprint, colon(hashlib.sha1(pkcs8).digest()), "SHA-1 of the PKCS#8 DER")
    _, pe, pn = ssh_strings(base64.b64decode(public_line.split()[1]))
    eq((int.from_bytes(pe, "big"), int.from_bytes(pn, "big")), (e, n), "public key is its half")


def imds_get(endpoint, path):
    tok = urllib.request.Request(endpoint + "/latest/api/token", method="PUT",
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    with urllib.request.urlopen(tok, timeout=10) as r:
        token = r.read().decode()
    req = urllib.request.Request(endpoint + "/latest/" + path,
                                 headers={"X-aws-ec2-metadata-token": token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def run(ctx):
    t = ctx.service("ec2")
    ec2 = ctx.client("ec2")
    bad = ctx.client("ec2", validate=False)
    worker = ctx.client("ec2", key="worker")
    st = ctx.ec2_state

    # Independent fingerprints agree with the tools' before they judge the emulator's.
    eq(colon(hashlib.md5(spki_of_ssh_rsa(RSA_PUB)).digest()), RSA_MD5, "hand-made SPKI")
    eq(base64.b64encode(hashlib.sha256(base64.b64decode(ED_PUB.split()[1])).digest()).decode(),
       ED_SHA256, "ED25519 SHA-256")

    # --- account attributes (the driver's first call: the default VPC) --------------------
    with t.ok("DescribeAccountAttributes"):
        attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                 for a in ec2.describe_account_attributes()["AccountAttributes"]}
        default_vpc = [v for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]][0]["VpcId"]
        eq(attrs["default-vpc"], [default_vpc], "default-vpc")
        eq(attrs["supported-platforms"], ["VPC"], "supported-platforms")
        eq(sorted(attrs), sorted(["default-vpc", "supported-platforms", "max-instances", "max-elastic-ips",
                                  "vpc-max-elastic-ips", "vpc-max-security-groups-per-interface"]), "names")
        eq(attrs["max-instances"], ["1000"], "max-instances (the instance limit)")
        only = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
        eq([a["AttributeName"] for a in only], ["default-vpc"], "AttributeNames filters")
    with t.err("DescribeAccountAttributes", "InvalidParameterValue", 400):
        bad.describe_account_attributes(AttributeNames=["no-such-attribute"])

    # --- import ------------------------------------------------------------------------------
    with t.ok("ImportKeyPair"):
        r = ec2.import_key_pair(KeyName="machine-rsa", PublicKeyMaterial=RSA_PUB.encode(),
                                TagSpecifications=[{"ResourceType": "key-pair",
                                                    "Tags": [{"Key": "owner", "Value": "rancher"}]}])
        rsa_id = r["KeyPairId"]
        true(rsa_id.startswith("key-") and len(rsa_id) == 21, f"KeyPairId {rsa_id}")
        eq((r["KeyName"], r["KeyFingerprint"]), ("machine-rsa", RSA_MD5), "MD5 of the DER public key")
        eq(r["Tags"], [{"Key": "owner", "Value": "rancher"}], "Tags")
        eq(st()["key_pairs"][rsa_id]["name"], "machine-rsa", "in state")
        r = ec2.import_key_pair(KeyName="machine-ed", PublicKeyMaterial=ED_PUB.encode())
        ed_id = r["KeyPairId"]
        eq(r["KeyFingerprint"], ED_SHA256, "ED25519 SHA-256")
        # RFC 4716 and base64 DER carry the same RSA key: the same fingerprint.
        body = RSA_PUB.split()[1]
        rfc = ("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"rsa@awsemu\"\n"
               + "\n".join(body[i:i + 70] for i in range(0, len(body), 70))
               + "\n---- END SSH2 PUBLIC KEY ----\n")
        eq(ec2.import_key_pair(KeyName="rfc4716", PublicKeyMaterial=rfc.encode())["KeyFingerprint"],
           RSA_MD5, "RFC 4716")
        b64der = base64.b64encode(spki_of_ssh_rsa(RSA_PUB))
        eq(ec2.import_key_pair(KeyName="der", PublicKeyMaterial=b64der)["KeyFingerprint"], RSA_MD5, "DER")
    with t.err("ImportKeyPair", "InvalidKey.Format", 400):
        ec2.import_key_pair(KeyName="ecdsa", PublicKeyMaterial=ECDSA_PUB.encode())
    with t.err("ImportKeyPair", "InvalidKeyPair.Duplicate", 400):
        ec2.import_key_pair(KeyName="machine-rsa", PublicKeyMaterial=ED_PUB.encode())
    with t.err("ImportKeyPair", "UnauthorizedOperation", 403):
        worker.import_key_pair(KeyName="worker-key", PublicKeyMaterial=ED_PUB.encode())
    true("ecdsa" not in json.dumps(st()["key_pairs"]) and "worker-key" not in json.dumps(st()["key_pairs"]),
         "refused imports stored nothing")

    # --- create ------------------------------------------------------------------------------
    with t.ok("CreateKeyPair"):
        c = ec2.create_key_pair(KeyName="made-rsa",
                                TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "k", "Value": "v"}]}])
        made_rsa = c["KeyPairId"]
        eq(c["Tags"], [{"Key": "k", "Value": "v"}], "Tags")
        line = one(ec2.describe_key_pairs(KeyPairIds=[made_rsa], IncludePublicKey=True)["KeyPairs"])["PublicKey"]
        check_rsa_private(c["KeyMaterial"], c["KeyFingerprint"], line)
        e = ec2.create_key_pair(KeyName="made-ed", KeyType="ed25519")
        key = pem_body(e["KeyMaterial"], "OPENSSH PRIVATE KEY")
        true(key.startswith(b"openssh-key-v1\0"), "OpenSSH private key format")
        info = one(ec2.describe_key_pairs(KeyNames=["made-ed"], IncludePublicKey=True)["KeyPairs"])
        blob = base64.b64decode(info["PublicKey"].split()[1])
        true(blob in key, "the file holds the public key")
        eq(e["KeyFingerprint"], base64.b64encode(hashlib.sha256(blob).digest()).decode(), "SHA-256 of the blob")
        p = ec2.create_key_pair(KeyName="made-ppk", KeyFormat="ppk")
        true(p["KeyMaterial"].startswith("PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n"), "ppk")
    with t.err("CreateKeyPair", "InvalidKeyPair.Duplicate", 400):
        ec2.create_key_pair(KeyName="machine-ed")

    # --- describe ----------------------------------------------------------------------------
    with t.ok("DescribeKeyPairs"):
        ks = ec2.describe_key_pairs()["KeyPairs"]
        eq([k["KeyName"] for k in ks], sorted(["machine-rsa", "machine-ed", "rfc4716", "der", "made-rsa",
                                               "made-ed", "made-ppk"]), "all, by name")
        k = one(ec2.describe_key_pairs(KeyNames=["machine-rsa"])["KeyPairs"])
        eq((k["KeyPairId"], k["KeyType"], k["KeyFingerprint"]), (rsa_id, "rsa", RSA_MD5), "by name")
        true("PublicKey" not in k and hasattr(k["CreateTime"], "year"), "no PublicKey unless asked")
        k = one(ec2.describe_key_pairs(KeyPairIds=[ed_id], IncludePublicKey=True)["KeyPairs"])
        eq(k["PublicKey"], " ".join(ED_PUB.split()[:2]) + " machine-ed", "the key, named")
        eq([k["KeyName"] for k in ec2.describe_key_pairs(
            Filters=[{"Name": "tag:owner", "Values": ["rancher"]}])["KeyPairs"]], ["machine-rsa"], "tag filter")
        eq(sorted(k["KeyName"] for k in ec2.describe_key_pairs(
            Filters=[{"Name": "key-type", "Values": ["ed25519"]}])["KeyPairs"]), ["machine-ed", "made-ed"], "type")
        eq([k["KeyName"] for k in ec2.describe_key_pairs(
            Filters=[{"Name": "fingerprint", "Values": [ED_SHA256]}])["KeyPairs"]], ["machine-ed"], "fingerprint")
    with t.err("DescribeKeyPairs", "InvalidKeyPair.NotFound", 400):
        ec2.describe_key_pairs(KeyNames=["no-such-key"])

    # --- launch with a key: KeyName, IMDS public-keys/ -------------------------------------
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    with t.err("RunInstances", "InvalidKeyPair.NotFound", 400):
        ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, KeyName="no-such-key")
    with t.ok("RunInstances"):
        i = one(ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                  KeyName="machine-ed")["Instances"])
        iid = i["InstanceId"]
        eq(i["KeyName"], "machine-ed", "KeyName")
        d = one(one(ec2.describe_instances(InstanceIds=[iid])["Reservations"])["Instances"])
        eq((d["KeyName"], d["State"]["Name"]), ("machine-ed", "running"), "described")
        true(d["PublicIpAddress"].count(".") == 3 and d["PublicDnsName"].endswith(".compute-1.amazonaws.com"),
             f"a public address in a default subnet: {d.get('PublicIpAddress')}")
        endpoint = ctx.server.get(f"/_awsemu/imds/{iid}")["endpoint"]
        eq(imds_get(endpoint, "meta-data/public-keys/"), "0=machine-ed", "public-keys/")
        eq(imds_get(endpoint, "meta-data/public-keys/0/"), "openssh-key", "public-keys/0/")
        eq(imds_get(endpoint, "meta-data/public-keys/0/openssh-key"), k["PublicKey"], "openssh-key")
        eq(imds_get(endpoint, "meta-data/public-ipv4"), d["PublicIpAddress"], "public-ipv4")

    # --- reboot ------------------------------------------------------------------------------
    with t.ok("RebootInstances"):
        ec2.reboot_instances(InstanceIds=[iid])
        d = one(one(ec2.describe_instances(InstanceIds=[iid])["Reservations"])["Instances"])
        eq(d["State"]["Name"], "running", "still running")
    ec2.terminate_instances(InstanceIds=[iid])
    ec2.describe_instances(InstanceIds=[iid])  # terminated
    with t.err("RebootInstances", "IncorrectInstanceState", 400):
        ec2.reboot_instances(InstanceIds=[iid])

    # --- delete ------------------------------------------------------------------------------
    with t.ok("DeleteKeyPair"):
        r = ec2.delete_key_pair(KeyName="machine-ed")
        eq((r["Return"], r["KeyPairId"]), (True, ed_id), "deleted by name")
        r = ec2.delete_key_pair(KeyPairId=rsa_id)
        eq((r["Return"], r["KeyPairId"]), (True, rsa_id), "deleted by id")
        r = ec2.delete_key_pair(KeyName="machine-ed")
        true(r["Return"] and "KeyPairId" not in r, "a missing name is no error")
        true(ed_id not in st()["key_pairs"] and rsa_id not in st()["key_pairs"], "gone")
        # The terminated instance still names its key.
        d = one(one(ec2.describe_instances(InstanceIds=[iid])["Reservations"])["Instances"])
        eq(d["KeyName"], "machine-ed", "KeyName outlives the pair")
    with t.err("DeleteKeyPair", "MissingParameter", 400):
        ec2.delete_key_pair()
    with t.err("DeleteKeyPair", "InvalidKeyPair.NotFound", 400):
        ec2.delete_key_pair(KeyPairId=rsa_id)

    # --- Spot, as the driver's --amazonec2-request-spot-instance launches -------------------
    r = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, KeyName="made-ed",
                          InstanceMarketOptions={"MarketType": "spot",
                                                 "SpotOptions": {"MaxPrice": "", "SpotInstanceType": "one-time"}})
    si = one(r["Instances"])
    sir = si["SpotInstanceRequestId"]
    with t.ok("DescribeSpotInstanceRequests"):
        ec2.get_waiter("spot_instance_request_fulfilled").wait(SpotInstanceRequestIds=[sir])
        s = one(ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[sir])["SpotInstanceRequests"])
        eq((s["State"], s["Status"]["Code"], s["Type"]), ("active", "fulfilled", "one-time"), "fulfilled")
        eq((s["InstanceId"], s["LaunchSpecification"]["KeyName"]), (si["InstanceId"], "made-ed"), "its instance")
        eq(si["InstanceLifecycle"], "spot", "InstanceLifecycle")
        true(sir in st()["spot_requests"], "in state")
        eq(ec2.describe_spot_instance_requests(Filters=[{"Name": "state", "Values": ["closed"]}])["SpotInstanceRequests"],
           [], "state filter")
    with t.err("DescribeSpotInstanceRequests", "InvalidSpotInstanceRequestID.NotFound", 400):
        ec2.describe_spot_instance_requests(SpotInstanceRequestIds=["sir-0123abcd"])
    with t.ok("CancelSpotInstanceRequests"):
        c = one(ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[sir])["CancelledSpotInstanceRequests"])
        eq((c["SpotInstanceRequestId"], c["State"]), (sir, "cancelled"), "cancelled")
        s = one(ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[sir])["SpotInstanceRequests"])
        eq(s["Status"]["Code"], "request-canceled-and-instance-running", "the instance runs on")
        d = one(one(ec2.describe_instances(InstanceIds=[si["InstanceId"]])["Reservations"])["Instances"])
        eq(d["State"]["Name"], "running", "still running")
    with t.err("CancelSpotInstanceRequests", "InvalidSpotInstanceRequestID.Malformed", 400):
        ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=["sir-bad!"])
    ec2.terminate_instances(InstanceIds=[si["InstanceId"]])
