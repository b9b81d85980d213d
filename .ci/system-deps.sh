#!/usr/bin/env bash
# Debian packages the test suite uses: Chromium for the browser tests, ffmpeg/espeak-ng/sox to
# build the fake camera and microphone files, the judge's sandbox tools. Installed only when
# missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
# The coding judge's local sandbox: bubblewrap, the system python3 (monitor and Python
# submissions), the compilers and node it runs, and libseccomp for its seccomp filter.
command -v bwrap >/dev/null || missing+=(bubblewrap)
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v gcc >/dev/null || missing+=(gcc)
command -v g++ >/dev/null || missing+=(g++)
command -v node >/dev/null || missing+=(nodejs)
ldconfig -p | grep 'libseccomp\.so\.2' >/dev/null || missing+=(libseccomp2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
