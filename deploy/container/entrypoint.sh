#!/bin/sh
# Entry point of the Archway image: `archway <command>` with the image's config unless one is given.
# The image's own default config (demo mode, loopback only) reads its two keys from the environment; when they
# are not set, random keys are made for this container's life, so no key is ever baked into the image. They are
# lost on restart, which only an in-memory demo can afford: a real config names keys of its own.
# ARCHWAY_DEFAULT_CONFIG and ARCHWAY_MAIN exist so that the tests run this very script outside an image.
set -eu
if [ "${ARCHWAY_CONFIG:-}" = "${ARCHWAY_DEFAULT_CONFIG:-/etc/archway/archway.yaml}" ]; then
  key() { node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64"))'; }
  : "${ARCHWAY_SHADOW_PASSWORD_KEY:=$(key)}"
  : "${ARCHWAY_SESSION_KEY:=$(key)}"
  export ARCHWAY_SHADOW_PASSWORD_KEY ARCHWAY_SESSION_KEY
fi
exec node "${ARCHWAY_MAIN:-/app/dist/main.js}" "$@"
