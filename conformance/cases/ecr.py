import base64
import hashlib
import json

from harness import ACCOUNT, REGION, eq, one, true

POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                   "Action": ["ecr:BatchGetImage"]}]}


def run(ctx):
    t = ctx.service("ecr")
    ecr = ctx.client("ecr")
    worker = ctx.client("ecr", key="worker")
    repos = lambda: ctx.state()["ecr"][REGION]["repositories"]

    with t.ok("CreateRepository"):
        r = ecr.create_repository(repositoryName="conf/app", imageTagMutability="IMMUTABLE")["repository"]
        s = repos()["conf/app"]
        eq((r["repositoryArn"], r["repositoryUri"], r["registryId"]), (s["arn"], s["uri"], ACCOUNT), "repository")
        eq(r["imageTagMutability"], "IMMUTABLE", "mutability")
        true(hasattr(r["createdAt"], "year"), "createdAt")
    with t.err("CreateRepository", "RepositoryAlreadyExistsException", 400):
        ecr.create_repository(repositoryName="conf/app")
    with t.ok("DescribeRepositories"):
        r = one(ecr.describe_repositories(repositoryNames=["conf/app"])["repositories"])
        eq(r["repositoryUri"], repos()["conf/app"]["uri"], "uri")
    with t.err("DescribeRepositories", "RepositoryNotFoundException", 400):
        ecr.describe_repositories(repositoryNames=["nope"])
    with t.ok("GetAuthorizationToken"):
        a = one(ecr.get_authorization_token()["authorizationData"])
        true(base64.b64decode(a["authorizationToken"]).decode().startswith("AWS:"), "token")
        eq(a["proxyEndpoint"], f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com", "proxyEndpoint")
        true(hasattr(a["expiresAt"], "year"), "expiresAt")
    with t.err("GetAuthorizationToken", "AccessDeniedException", 400):
        ctx.client("ecr", key="controlplane").get_authorization_token()

    layer = b"layer-bytes-" * 10
    ldig = "sha256:" + hashlib.sha256(layer).hexdigest()
    with t.ok("InitiateLayerUpload"):
        u = ecr.initiate_layer_upload(repositoryName="conf/app")
        up = u["uploadId"]
        true(u["partSize"] > 0, "partSize")
    with t.err("InitiateLayerUpload", "RepositoryNotFoundException", 400):
        ecr.initiate_layer_upload(repositoryName="nope")
    with t.ok("UploadLayerPart"):
        r = ecr.upload_layer_part(repositoryName="conf/app", uploadId=up, partFirstByte=0, partLastByte=len(layer) - 1, layerPartBlob=layer)
        eq((r["uploadId"], r["lastByteReceived"]), (up, len(layer) - 1), "part")
    with t.err("UploadLayerPart", "UploadNotFoundException", 400):
        ecr.upload_layer_part(repositoryName="conf/app", uploadId="00000000-0000-0000-0000-000000000000", partFirstByte=0, partLastByte=0, layerPartBlob=b"x")
    with t.ok("CompleteLayerUpload"):
        r = ecr.complete_layer_upload(repositoryName="conf/app", uploadId=up, layerDigests=[ldig])
        eq(r["layerDigest"], ldig, "layerDigest")
    with t.err("CompleteLayerUpload", "UploadNotFoundException", 400):
        ecr.complete_layer_upload(repositoryName="conf/app", uploadId="00000000-0000-0000-0000-000000000000", layerDigests=[ldig])
    with t.ok("BatchCheckLayerAvailability"):
        l = one(ecr.batch_check_layer_availability(repositoryName="conf/app", layerDigests=[ldig])["layers"])
        eq((l["layerDigest"], l["layerAvailability"], l["layerSize"]), (ldig, "AVAILABLE", len(layer)), "layer")
    with t.err("BatchCheckLayerAvailability", "RepositoryNotFoundException", 400):
        ecr.batch_check_layer_availability(repositoryName="nope", layerDigests=[ldig])
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(layer), "digest": ldig},
                           "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer), "digest": ldig}]})
    with t.ok("PutImage"):
        im = ecr.put_image(repositoryName="conf/app", imageManifest=manifest, imageTag="v1")["image"]
        dig = im["imageId"]["imageDigest"]
        eq(im["imageId"]["imageTag"], "v1", "tag")
        eq(dig, "sha256:" + hashlib.sha256(manifest.encode()).hexdigest(), "digest")
        true(dig in str(repos()["conf/app"]["images"]), "in state")
    with t.err("PutImage", "ImageTagAlreadyExistsException", 400):
        ecr.put_image(repositoryName="conf/app", imageManifest=manifest.replace("2,", "2 ,", 1), imageTag="v1")
    with t.ok("GetDownloadUrlForLayer"):
        r = ecr.get_download_url_for_layer(repositoryName="conf/app", layerDigest=ldig)
        eq(r["layerDigest"], ldig, "digest")
        true(r["downloadUrl"].startswith("http"), r["downloadUrl"])
    with t.err("GetDownloadUrlForLayer", "LayersNotFoundException", 400):
        ecr.get_download_url_for_layer(repositoryName="conf/app", layerDigest="sha256:" + "0" * 64)

    with t.ok("ListImages"):
        eq(ecr.list_images(repositoryName="conf/app")["imageIds"], [{"imageDigest": dig, "imageTag": "v1"}], "imageIds")
    with t.err("ListImages", "RepositoryNotFoundException", 400):
        ecr.list_images(repositoryName="nope")
    with t.ok("DescribeImages"):
        d = one(ecr.describe_images(repositoryName="conf/app")["imageDetails"])
        eq((d["imageDigest"], d["imageTags"], d["repositoryName"]), (dig, ["v1"], "conf/app"), "detail")
    with t.err("DescribeImages", "ImageNotFoundException", 400):
        ecr.describe_images(repositoryName="conf/app", imageIds=[{"imageTag": "nope"}])
    with t.ok("BatchGetImage"):
        im = one(ecr.batch_get_image(repositoryName="conf/app", imageIds=[{"imageTag": "v1"}])["images"])
        eq(im["imageManifest"], manifest, "manifest")
    with t.err("BatchGetImage", "RepositoryNotFoundException", 400):
        ecr.batch_get_image(repositoryName="nope", imageIds=[{"imageTag": "v1"}])

    with t.ok("SetRepositoryPolicy"):
        r = ecr.set_repository_policy(repositoryName="conf/app", policyText=json.dumps(POLICY))
        eq(json.loads(r["policyText"]), POLICY, "policy")
    with t.err("SetRepositoryPolicy", "InvalidParameterException", 400):
        ecr.set_repository_policy(repositoryName="conf/app", policyText="{nope")
    with t.ok("GetRepositoryPolicy"):
        r = ecr.get_repository_policy(repositoryName="conf/app")
        eq((r["repositoryName"], r["registryId"], json.loads(r["policyText"])), ("conf/app", ACCOUNT, POLICY), "policy")
    with t.ok("DeleteRepositoryPolicy"):
        eq(json.loads(ecr.delete_repository_policy(repositoryName="conf/app")["policyText"]), POLICY, "deleted policy")
        eq(repos()["conf/app"]["policy"], None, "state")
    with t.err("GetRepositoryPolicy", "RepositoryPolicyNotFoundException", 400):
        ecr.get_repository_policy(repositoryName="conf/app")
    with t.err("DeleteRepositoryPolicy", "RepositoryPolicyNotFoundException", 400):
        ecr.delete_repository_policy(repositoryName="conf/app")

    with t.ok("BatchDeleteImage"):
        r = ecr.batch_delete_image(repositoryName="conf/app", imageIds=[{"imageTag": "v1"}])
        eq(r["imageIds"], [{"imageDigest": dig, "imageTag": "v1"}], "deleted")
        eq(r["failures"], [], "failures")
    with t.err("BatchDeleteImage", "RepositoryNotFoundException", 400):
        ecr.batch_delete_image(repositoryName="nope", imageIds=[{"imageTag": "v1"}])
    with t.ok("DeleteRepository"):
        eq(ecr.delete_repository(repositoryName="conf/app")["repository"]["repositoryName"], "conf/app", "name")
        true("conf/app" not in repos(), "gone")
    with t.err("DeleteRepository", "RepositoryNotFoundException", 400):
        ecr.delete_repository(repositoryName="conf/app")
