"""What an upload is, from its bytes alone, and the renditions Chirp stores of it.

The type is sniffed with libmagic (python-magic), never taken from the client. Images are
decoded with Pillow under a pixel limit (a decompression bomb is refused, not decoded), turned
upright by their EXIF orientation and stored without any EXIF (no camera, no location), with a
thumbnail and a small rendition. Videos (MP4) are probed with PyAV for their dimensions and
duration, and their first frame becomes a poster image. CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import av
import magic
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
VIDEO_TYPES = {"video/mp4"}
RENDITIONS = {"thumb": 150, "small": 680}  # the longest side, in pixels


class UnsupportedMedia(Exception):
    """The bytes are no image or video Chirp stores."""


class InvalidMedia(Exception):
    """The bytes claim a supported type but cannot be decoded, or are a decompression bomb."""


@dataclass(frozen=True, slots=True)
class Rendition:
    name: str
    content_type: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ProcessedMedia:
    content_type: str
    width: int
    height: int
    renditions: tuple[Rendition, ...]  # the original first
    duration_s: float | None = None

    @property
    def original(self) -> Rendition:
        return self.renditions[0]


def sniff(data: bytes) -> str:
    """The media type libmagic reads in the bytes."""
    return str(magic.from_buffer(data[:8192], mime=True))


def process(data: bytes, *, max_pixels: int) -> ProcessedMedia:
    content_type = sniff(data)
    if content_type in IMAGE_TYPES:
        return process_image(data, content_type, max_pixels=max_pixels)
    if content_type in VIDEO_TYPES:
        return process_video(data, max_pixels=max_pixels)
    raise UnsupportedMedia(f"{content_type} is not a supported image or video type")


def process_image(data: bytes, content_type: str, *, max_pixels: int) -> ProcessedMedia:
    image = decode_image(data, max_pixels=max_pixels)
    image_format = IMAGE_TYPES[content_type]
    if image_format == "GIF":
        # Kept as uploaded (GIF carries no EXIF; re-encoding would drop an animation's frames).
        original = Rendition("original", content_type, image.width, image.height, data)
        rendition_format, rendition_type = "PNG", "image/png"
    else:
        upright = ImageOps.exif_transpose(image)
        original = Rendition(
            "original",
            content_type,
            upright.width,
            upright.height,
            encode(upright, image_format),  # saved without the EXIF block
        )
        image, rendition_format, rendition_type = upright, image_format, content_type
    renditions = [original]
    for name, longest in RENDITIONS.items():
        smaller = image.copy()
        smaller.thumbnail((longest, longest))
        renditions.append(
            Rendition(
                name,
                rendition_type,
                smaller.width,
                smaller.height,
                encode(smaller, rendition_format),
            )
        )
    return ProcessedMedia(content_type, original.width, original.height, tuple(renditions))


def decode_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """The decoded image; `InvalidMedia` for a corrupt one or one above `max_pixels`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                raise InvalidMedia(
                    f"{image.width}x{image.height} pixels is more than the {max_pixels} allowed"
                )
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            raise InvalidMedia(f"refused as a decompression bomb: {bomb}") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as broken:
            raise InvalidMedia(f"the image cannot be decoded: {broken}") from None
    return image


def encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, format=image_format)
    return out.getvalue()


def process_video(data: bytes, *, max_pixels: int) -> ProcessedMedia:
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidMedia("the file holds no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > max_pixels:
                raise InvalidMedia(f"{width}x{height} pixels is more than the {max_pixels} allowed")
            duration_s = (
                round(container.duration / av.time_base, 3)
                if container.duration is not None
                else None
            )
            first = next(container.decode(stream), None)
            if first is None:
                raise InvalidMedia("the video has no frame to show")
            poster = first.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
    except av.FFmpegError as broken:
        raise InvalidMedia(f"the video cannot be decoded: {broken}") from None
    original = Rendition("original", "video/mp4", width, height, data)
    poster_rendition = Rendition(
        "poster", "image/jpeg", poster.width, poster.height, encode(poster, "JPEG")
    )
    return ProcessedMedia(
        "video/mp4", width, height, (original, poster_rendition), duration_s=duration_s
    )
