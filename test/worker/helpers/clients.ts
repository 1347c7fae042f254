import { MEDIA_TYPES } from "../../../src/oci/media-types";

/** `Accept` headers as the real clients send them (/work/shared/CLIENTS.md); arrays are separate header lines. */
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
