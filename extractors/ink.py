"""What is painted out of a scanned page before tesseract reads it: ruled lines, dotted leaders and specks.

Both are ink that is no letter but that tesseract reads as letters or lets
decide its page segmentation: a box or a grid made it drop the text inside,
a leader's dots came out as a string of letters glued to the caption before
them. Everything here works on the page's pixels with numpy (and scipy's
connected components for the dots), so what it removes is plain to test.

Leaders go first, found on the page as printed: painting a rule cuts the
letters it touches into stubs, and a caption's stubs can line up like dots.
Specks go last: the filter that takes them would take a leader's smallest
dots too, leaving gaps that no longer read as a leader.
"""

from __future__ import annotations

import bisect
import itertools
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFilter

__all__ = ["without_leaders", "without_rules", "without_specks"]

_DARK = 160  # grey level under which a pixel is ink
_RULE_WIDTH = 1 / 27  # of the page's width: a horizontal ink run this long is a rule (92 px at 300 dpi on A4)
_RULE_HEIGHT = 1 / 35  # of the page's height: a vertical one (100 px at 300 dpi), taller than a 16 pt letter
_RULE_REACH = 3  # pixels either side of a rule that are whitened with it (blur, a tilted rule's steps)
_RULE_THICKNESS = 1 / 250  # of the page's height: ink this thick across a run is a filled area, not a rule (14 px)
_DOT = 1 / 300  # of the page's height: ink no taller or wider than this is a dot (12 px at 300 dpi)
_LEADER_DOTS = 8  # a leader is at least this many dots in a row...
_LEADER_PITCH = 4  # ...each within this many dot sizes of the last...
_LEADER_EVEN = 0.3  # ...at a pitch within this share of the leader's median pitch
_SPECK_DPI = 240  # from this resolution a 3-pixel window is narrower than a letter's stroke (2 px at 8 pt, 300 dpi)
_MAX_PIECES = 50_000  # connected pieces of ink on a page (a noisy scanned page has 3-12 thousand)


def without_rules(image: Image.Image) -> Image.Image:
    """The page with its ruled lines painted white: a form's boxes and a table's grid make tesseract's page
    segmentation drop the text inside them (a ruled KYC grid lost nearly every value). A rule is a horizontal ink
    run of at least ``_RULE_WIDTH`` of the page, or a vertical one of ``_RULE_HEIGHT``; no letter at text sizes
    has one, so the words are untouched. Nor is a rule near a filled area: a dark banner or a filled table header
    has long runs too, and whitening it would erase the white captions printed on it."""
    pixels = np.asarray(image.convert("L"))
    dark = pixels < _DARK
    rules = _widened(_long_runs(dark, max(8, round(image.width * _RULE_WIDTH))))
    rules |= _widened(_long_runs(dark.T, max(8, round(image.height * _RULE_HEIGHT)))).T
    if rules.any():
        rules &= ~_filled(dark, max(3, round(image.height * _RULE_THICKNESS)))
    if not rules.any():
        return image
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned)


def _widened(mask: np.ndarray, reach: int = _RULE_REACH) -> np.ndarray:
    """``mask`` grown by ``reach`` pixels across its rows (up and down): a scanned rule's blurred edges go with it."""
    grown = mask.copy()
    for step in range(1, reach + 1):
        grown[step:] |= mask[:-step]
        grown[:-step] |= mask[step:]
    return grown


def _filled(dark: np.ndarray, size: int) -> np.ndarray:
    """Filled areas of ``dark`` and a margin of ``size`` around them: every pixel near a ``size`` × ``size`` square
    of solid ink. The gaps between a banner's white letters are long, narrow ink runs, and no rule. Found at half
    resolution, a quarter of the work: a margin needs no exact edge."""
    half = dark[::2, ::2]
    core = size // 2 | 1
    near = _box_counts(_box_counts(half, core) == core * core, 3 * core) > 0
    return near.repeat(2, axis=0).repeat(2, axis=1)[: dark.shape[0], : dark.shape[1]]


def _box_counts(mask: np.ndarray, size: int) -> np.ndarray:
    """Per pixel, how many pixels of ``mask`` lie in the ``size`` × ``size`` square centred on it (``size`` odd)."""
    half = size // 2
    padded = np.pad(mask, half + 1).astype(np.int32).cumsum(0).cumsum(1)  # a summed-area table, a zero row first
    rows, columns = mask.shape
    return (
        padded[size : size + rows, size : size + columns]
        - padded[:rows, size : size + columns]
        - padded[size : size + rows, :columns]
        + padded[:rows, :columns]
    )


def _long_runs(dark: np.ndarray, length: int) -> np.ndarray:
    """Per row of ``dark``, the pixels inside a run of at least ``length`` consecutive true ones."""
    rows, columns = dark.shape
    padded = np.zeros((rows, columns + 2), dtype=np.int8)  # a blank column each side: no run spans two rows
    padded[:, 1:-1] = dark
    change = np.diff(padded.ravel())
    starts, ends = np.flatnonzero(change == 1), np.flatnonzero(change == -1)  # run = flat[start + 1 .. end]
    long = ends - starts >= length
    delta = np.zeros(padded.size + 1, dtype=np.int32)  # +1 where a long run starts, -1 after it: cumsum marks it
    delta[starts[long] + 1] = 1  # no two runs share a start or an end, and a run ends before the next one starts
    delta[ends[long] + 1] = -1
    return np.cumsum(delta)[:-1].astype(bool).reshape(padded.shape)[:, 1:-1]


class _Dot(NamedTuple):
    left: int
    right: int
    middle: float  # height of its centre on the page
    size: int  # the larger side of its box
    label: int  # its connected component


def without_leaders(image: Image.Image) -> Image.Image:
    """The page with its dotted leaders painted white: tesseract reads a leader's dots as letters and glues them to
    the caption before them ("Date of issue ....... 26/12/2023" came out as "Dita Of ESSUC cnsccceccceccc"). A
    leader is ``_LEADER_DOTS`` or more dots of one size on one line at an even pitch with nothing between them: a
    decimal point, a hyphen, a minus sign or the dots of an umlaut stand alone or beside letters, and a scan's
    speckles are neither evenly spaced nor of one size."""
    from scipy import ndimage  # only the reading children pay its import, and only for a scanned page

    pixels = np.asarray(image.convert("L"))
    dark = pixels < _DARK
    labels, count = ndimage.label(dark)
    if count > _MAX_PIECES:  # noise or a halftone photo, no form: tracing each piece would take seconds
        return image
    most = max(2, round(image.height * _DOT))
    dots = []
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
        if most // 4 <= max(height, width) <= most:  # a speck of noise is smaller
            dots.append(_Dot(box[1].start, box[1].stop, (box[0].start + box[0].stop) / 2, max(height, width), label))
    leaders = [dot.label for chain in _chains(dots, dark, most) for dot in _even_runs(chain)]
    if not leaders:
        return image
    erase = np.zeros(count + 1, dtype=bool)
    erase[leaders] = True
    cleaned = pixels.copy()
    cleaned[erase[labels]] = 255
    return Image.fromarray(cleaned)


def without_specks(image: Image.Image, dpi: float) -> Image.Image:
    """The page with its salt-and-pepper specks taken out by a 3 × 3 median filter: an office scanner's dust and
    its JPEG's flecks, which tesseract reads as quote marks, commas or letters glued to a word ('‘Royal Glasses',
    '1.443 ,88'), or let break a line of text into pieces. On a page rendered at ``_SPECK_DPI`` or more, a speck of
    the scan's own pixels spans at most four of the render's at 150 dpi and fewer than half of any 3 × 3 window,
    while a letter's stroke is two pixels wide or more, so it fills most of the windows on it and stays. Under that
    resolution the window would eat strokes too, and the page is left as it is."""
    if dpi < _SPECK_DPI:
        return image
    return image.convert("L").filter(ImageFilter.MedianFilter(3))


def _first_right_of(dot: _Dot, line: list[_Dot], count: int = 3) -> list[_Dot]:
    """The first ``count`` dots of the sorted ``line`` that start right of ``dot``'s right edge."""
    start = bisect.bisect_left(line, (dot.right,))
    return line[start : start + count]


def _chains(dots: list[_Dot], dark: np.ndarray, most: int) -> list[list[_Dot]]:
    """The dots in chains: each dot is linked to the nearest dot to its right on its line that has its size, with
    only white between them (a tilted scan's line drifts, so only neighbours are compared)."""
    by_band: dict[int, list[_Dot]] = {}
    for dot in sorted(dots):
        by_band.setdefault(int(dot.middle // most), []).append(dot)
    following: dict[int, _Dot] = {}
    for dot in dots:
        band = int(dot.middle // most)
        near = [
            other
            for line in (by_band.get(band - 1, []), by_band.get(band, []), by_band.get(band + 1, []))
            for other in _first_right_of(dot, line)
            if other.left - dot.left <= _LEADER_PITCH * most
            and abs(other.middle - dot.middle) <= most / 2
            and abs(other.size - dot.size) <= max(1, dot.size // 3)
        ]
        for other in sorted(near):
            row = min(int((dot.middle + other.middle) / 2), dark.shape[0] - 1)
            if not dark[row, dot.right : other.left].any():
                following[dot.label] = other
            break
    led = {dot.label for dot in following.values()}
    chains = []
    for dot in dots:
        if dot.label not in led:
            chain = [dot]
            while chain[-1].label in following:
                chain.append(following[chain[-1].label])
            chains.append(chain)
    return chains


def _even_runs(chain: list[_Dot]) -> list[_Dot]:
    """The dots of ``chain`` in stretches of at least ``_LEADER_DOTS`` at an even pitch."""
    if len(chain) < _LEADER_DOTS:
        return []
    pitches = [b.left - a.left for a, b in itertools.pairwise(chain)]
    median = sorted(pitches)[len(pitches) // 2]
    found: list[_Dot] = []
    run = [chain[0]]
    for dot, pitch in zip(chain[1:], pitches, strict=True):
        if abs(pitch - median) > _LEADER_EVEN * median:
            found += run if len(run) >= _LEADER_DOTS else []
            run = []
        run.append(dot)
    return found + (run if len(run) >= _LEADER_DOTS else [])
