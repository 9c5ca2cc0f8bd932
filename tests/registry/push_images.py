#!/usr/bin/env python3
"""Pushes the test images of tests/registry/images.json into a registry on loopback, through
the registry HTTP API (no Docker engine): each image's layer and configuration blobs are
uploaded, then its manifest, and for a multi-platform image one manifest per platform and then
the image index that lists them.

    python3 tests/registry/push_images.py tests/registry/images.json

Every blob is built from the JSON file alone (fixed timestamps, a layer made of fixed bytes), so
the digests, and what kwctl records of them, are the same on every run. Python 3 standard
library only.
"""

import gzip
import hashlib
import io
import json
import sys
import tarfile
import urllib.error
import urllib.request
from urllib.parse import urljoin

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CREATED = "2024-11-26T18:42:08Z"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def split_reference(reference):
    """`host:port/repo/sitory:tag` into (`http://host:port`, `repo/sitory`, `tag`)."""
    host, _, rest = reference.partition("/")
    repository, _, tag = rest.rpartition(":")
    return f"http://{host}", repository, tag


def layer_for(name):
    """A one-file tar (gzip-compressed, nothing time-dependent) and its uncompressed digest."""
    content = f"{name}\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("etc/test-image")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), digest(tar_bytes)


def request(method, url, data=None, content_type=None):
    req = urllib.request.Request(url, data=data, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"push_images: {method} {url}: {e.code} {e.read().decode(errors='replace')}")


def push_blob(base, repository, data):
    blob = digest(data)
    status, headers, _ = request("POST", f"{base}/v2/{repository}/blobs/uploads/")
    location = urljoin(base, headers["Location"])
    separator = "&" if "?" in location else "?"
    request("PUT", f"{location}{separator}digest={blob}", data, "application/octet-stream")
    return {"digest": blob, "size": len(data)}


def push_manifest(base, repository, tag, manifest, media_type):
    """Pushes a manifest under `tag`, or under its own digest when `tag` is None."""
    data = canonical(manifest)
    request("PUT", f"{base}/v2/{repository}/manifests/{tag or digest(data)}", data, media_type)
    return {"mediaType": media_type, "digest": digest(data), "size": len(data)}


def config_blob(reference, platform):
    """The image configuration: `raw` verbatim when given (a deliberately broken one),
    otherwise an OCI image configuration around the platform's `config` section."""
    if "raw" in platform:
        return platform["raw"].encode(), None
    layer, diff_id = layer_for(reference)
    config = {
        "architecture": platform.get("architecture", "amd64"),
        "os": platform.get("os", "linux"),
        "created": CREATED,
        "config": platform.get("config", {}),
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "COPY / / # test image"}],
    }
    return canonical(config), layer


def push_image_manifest(base, repository, tag, reference, platform):
    config, layer = config_blob(reference, platform)
    if layer is None:
        # A broken configuration still comes with a layer, as any image's does.
        layer, _ = layer_for(reference)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, **push_blob(base, repository, config)},
        "layers": [{"mediaType": OCI_LAYER, **push_blob(base, repository, layer)}],
    }
    return push_manifest(base, repository, tag, manifest, OCI_MANIFEST)


def push(image):
    reference = image["reference"]
    base, repository, tag = split_reference(reference)
    platforms = image.get("platforms")
    if not platforms:
        return push_image_manifest(base, repository, tag, reference, image)
    entries = []
    for platform in platforms:
        # Each platform's manifest is pushed by digest, then listed in the index.
        pushed = push_image_manifest(base, repository, None, reference, platform)
        entries.append({**pushed, "platform": {"architecture": platform["architecture"],
                                                "os": platform["os"]}})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    return push_manifest(base, repository, tag, index, OCI_INDEX)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        images = json.load(f)["images"]
    for image in images:
        pushed = push(image)
        print(f"pushed {image['reference']} {pushed['digest']}")


if __name__ == "__main__":
    main()
