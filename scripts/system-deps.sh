#!/usr/bin/env bash
# Debian packages docval needs beyond Python: installed once, by the setup commands, never by hand.
# Each line names the package and what needs it. Already-installed packages are skipped, so this is
# cheap to call from every `make run` / `make test`.
set -euo pipefail

packages=(
    tesseract-ocr      # extractors: OCR of pages without a text layer (README "extractors")
    tesseract-ocr-eng  # extractors: English model for tesseract-ocr
    tesseract-ocr-osd  # extractors: page orientation (a page scanned sideways or upside down)
    tesseract-ocr-deu  # extractors: German, French, Dutch, Italian and Spanish models (ocr_language "auto")
    tesseract-ocr-fra
    tesseract-ocr-nld
    tesseract-ocr-ita
    tesseract-ocr-spa
    chromium        # reports and workbench: headless browser tests (report.html; passkeys with a virtual authenticator)
    poppler-utils   # reports: pdftoppm/pdftotext test of report.pdf
    fonts-dejavu-core  # extractors: a TrueType font with ligature glyphs (tests/extractors/test_other_engines.py)
    postgresql      # flows: the Prefect server's database for many workers (`docval cluster`, flows/cluster/postgres.py)
    openssh-client  # approvals: people sign decisions with `ssh-keygen -Y sign` (and ssh-agent); tests verify with it
)

missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
