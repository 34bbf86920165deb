#!/usr/bin/env bash
# Smoke test with the real AWS CLI: as `worker`, list regions (allowed) and create a volume (refused);
# then boto3 on a node that knows only its metadata endpoint (scripts/imds_boto3.py).
# Installs the CLI from PyPI into a private virtualenv when it is not on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aws >/dev/null 2>&1; then
  venv=target/awscli-venv
  if [ ! -x "$venv/bin/aws" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check awscli
  fi
  export PATH="$PWD/$venv/bin:$PATH"
fi
aws --version
cargo build --release -p awsemu --quiet
log=$(mktemp)
./target/release/awsemu serve --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$log" && break
  sleep 0.05
done
endpoint=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log" | head -1)
[ -n "$endpoint" ] || { cat "$log"; echo "server did not start"; exit 1; }
export AWS_ENDPOINT_URL=$endpoint AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=worker AWS_SECRET_ACCESS_KEY=worker
export AWS_PAGER="" AWS_MAX_ATTEMPTS=1
regions=$(aws ec2 describe-regions --query 'Regions[].RegionName' --output text)
echo "describe-regions as worker: $regions"
echo "$regions" | grep -q us-east-1
if out=$(aws ec2 create-volume --availability-zone us-east-1a --size 10 2>&1); then
  echo "create-volume as worker unexpectedly succeeded: $out"; exit 1
fi
echo "create-volume as worker: $out"
echo "$out" | grep -q 'UnauthorizedOperation'
echo "$out" | grep -q 'assumed-role/worker/awsemu is not authorized to perform: ec2:CreateVolume'

# Classic ELB as admin: every answer must parse in botocore (an empty <ActionResult/> included).
elb() { AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws elb "$@"; }
elb create-load-balancer --load-balancer-name smoke --availability-zones us-east-1a \
  --listeners Protocol=TCP,LoadBalancerPort=80,InstancePort=80 --query DNSName --output text
elb create-load-balancer-listeners --load-balancer-name smoke \
  --listeners Protocol=HTTP,LoadBalancerPort=8080,InstancePort=8080
elb delete-load-balancer-listeners --load-balancer-name smoke --load-balancer-ports 8080
elb create-load-balancer-policy --load-balancer-name smoke --policy-name smoke-proxy \
  --policy-type-name ProxyProtocolPolicyType --policy-attributes AttributeName=ProxyProtocol,AttributeValue=true
elb set-load-balancer-policies-for-backend-server --load-balancer-name smoke --instance-port 80 \
  --policy-names smoke-proxy
ports=$(elb describe-load-balancers --load-balancer-names smoke \
  --query 'LoadBalancerDescriptions[0].ListenerDescriptions[].Listener.LoadBalancerPort' --output text)
[ "$ports" = "80" ] || { echo "listeners after delete: $ports"; exit 1; }
elb delete-load-balancer --load-balancer-name smoke
left=$(elb describe-load-balancers --query 'length(LoadBalancerDescriptions)' --output text)
[ "$left" = "0" ] || { echo "load balancers left: $left"; exit 1; }
echo "classic ELB through the CLI: ok"
echo "cli smoke test: ok"

# boto3 through the instance metadata service (botocore's own credential chain).
venv=target/boto3-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check boto3
fi
env -u AWS_ENDPOINT_URL "$venv/bin/python" scripts/imds_boto3.py "$endpoint"
