import { MEDIA_TYPES } from "../../../src/oci/media-types";

/**
 * `Accept` headers as the real clients were seen to send them; arrays are separate header lines.
 * On manifests skopeo and podman send six separate lines, docker six lines that include
 * `application/json`, and containerd one comma-joined line ending in the any-type wildcard. On blobs
 * only containerd sends one: the layer's media type, then the wildcard. aria2c sends its metalink line
 * on every request.
 */
export const CLIENT_ACCEPT = {
  aria2c: "*/*,application/metalink4+xml,application/metalink+xml",
  skopeoManifest: [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
  ],
  dockerManifest: [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
  ],
  containerdManifest:
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*",
  containerdLayer: `${MEDIA_TYPES.ociLayerGzip}, */*`,
} as const;
