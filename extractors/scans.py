"""Scanned renders of generated PDFs: image-only PDFs carrying the noise of an office scanner.

A text PDF from ``extractors.layouts`` is rasterised with PDFium at a scanner's
resolution (150–300 dpi), tilted slightly, blurred, speckled with salt-and-
pepper dots and re-compressed as JPEG, then wrapped as a PDF with no text
layer, so the appliance reads it only through its OCR path. Every draw comes
from a seed: the same seed gives the same scan, which evaluation needs to be
repeatable. The truth stays the generator's: a scan prints the same values.
"""

from __future__ import annotations

import dataclasses
import io
import random
import time
from dataclasses import dataclass

import numpy as np
import pypdfium2
from PIL import Image, ImageFilter

from extractors.layouts import GeneratedInvoice

__all__ = ["ScanNoise", "draw_noise", "scan", "scanned"]

_SCANNED_AT = time.gmtime(1_767_225_600)  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class ScanNoise:
    """How one document was scanned."""

    dpi: int
    angle: float  # degrees, counter-clockwise
    blur: float  # Gaussian radius in pixels at ``dpi``
    speckle: float  # share of pixels flipped to black or white
    jpeg_quality: int


def draw_noise(rng: random.Random) -> ScanNoise:
    """A plausible office scan: a hand-fed page is rarely straighter than ±1.5°, and a scanner's JPEG is
    rarely better than quality 85 or worse than 35."""
    return ScanNoise(
        dpi=rng.choice((150, 200, 240, 300)),
        angle=round(rng.uniform(-1.5, 1.5), 2),
        blur=round(rng.uniform(0.0, 0.9), 2),
        speckle=round(rng.uniform(0.0, 0.003), 4),
        jpeg_quality=rng.randint(35, 85),
    )


def scan(pdf: bytes, noise: ScanNoise, seed: int) -> bytes:
    """``pdf`` as an image-only PDF, every page degraded by ``noise`` (``seed`` places the speckles)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = [_degrade(page.render(scale=noise.dpi / 72, grayscale=True).to_pil(), noise, seed) for page in document]
    finally:
        document.close()
    out = io.BytesIO()
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=float(noise.dpi),
        quality=noise.jpeg_quality,
        creationDate=_SCANNED_AT,  # a fixed date: the same seed gives the same bytes
        modDate=_SCANNED_AT,
    )
    return out.getvalue()


def _degrade(page: Image.Image, noise: ScanNoise, seed: int) -> Image.Image:
    image = page.convert("L").rotate(noise.angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if noise.blur:
        image = image.filter(ImageFilter.GaussianBlur(noise.blur))
    pixels = np.array(image)
    flips = np.random.default_rng(seed).random(pixels.shape)
    pixels[flips < noise.speckle / 2] = 0
    pixels[flips > 1 - noise.speckle / 2] = 255
    return Image.fromarray(pixels, mode="L")


def scanned(invoices: list[GeneratedInvoice], seed: int) -> list[tuple[GeneratedInvoice, ScanNoise]]:
    """Each invoice as a scan (same name, truth and defect), with the noise it was drawn with."""
    rng = random.Random(seed)
    result = []
    for index, invoice in enumerate(invoices):
        noise = draw_noise(rng)
        result.append((dataclasses.replace(invoice, pdf=scan(invoice.pdf, noise, seed * 100_000 + index)), noise))
    return result
