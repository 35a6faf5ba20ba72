"""Checked file uploads and a local-disk media store.

Clients choose file names and content types, so neither is trusted: images are
opened by Pillow from an allow-list of formats and re-encoded (which drops EXIF
and any trailing payload), PDFs are recognised by their magic bytes, and files
are stored under generated names.
"""

import asyncio
import io
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, UploadFile
from fastapi.responses import FileResponse
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format -> (file extension, content type served back).
IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
CONTENT_TYPES = dict(IMAGE_FORMATS.values()) | {"pdf": "application/pdf"}
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|pdf)$")
_CHUNK = 64 * 1024


class UploadRejected(ValueError):
    """The file is not what it claims to be (422); the message and ``loc`` name the field.

    ``field`` is a form field, or one file of a list (``images[2]``: loc ``("images", 2)``).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        name, _, index = field.partition("[")
        self.loc: tuple[str | int, ...] = (name, int(index.rstrip("]"))) if index.rstrip("]").isdigit() else (field,)


class UploadTooLarge(UploadRejected):
    """The file or the request is over a size limit (413)."""


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    extension: str


async def read_limited(upload: UploadFile, max_bytes: int, field: str) -> bytes:
    """Reads at most ``max_bytes``; Starlette itself puts no limit on file parts."""
    buffer = bytearray()
    while chunk := await upload.read(_CHUNK):
        buffer += chunk
        if len(buffer) > max_bytes:
            raise UploadTooLarge(field, f"file is larger than {max_bytes // (1024 * 1024)} MiB")
    if not buffer:
        raise UploadRejected(field, "file is empty")
    return bytes(buffer)


def clean_image(data: bytes, field: str, max_pixels: int) -> CleanFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format or ""
                if image_format not in IMAGE_FORMATS:
                    raise UploadRejected(field, "only JPEG, PNG or WebP images are accepted")
                width, height = probe.size
                if width * height > max_pixels:
                    raise UploadRejected(field, f"image has too many pixels ({width}x{height})")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                upright = ImageOps.exif_transpose(image)
                if image_format == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                output = io.BytesIO()
                # Saving without exif/info drops the metadata (GPS, camera) of the original.
                options: dict[str, object] = {} if image_format == "PNG" else {"quality": 90}
                upright.save(output, format=image_format, **options)
    except UploadRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRejected(field, "not a readable JPEG, PNG or WebP image") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise UploadRejected(field, "the image is damaged") from error
    return CleanFile(data=output.getvalue(), extension=IMAGE_FORMATS[image_format][0])


# Decoding is CPU and memory heavy: a few at a time, off the event loop.
_IMAGE_WORKERS = asyncio.Semaphore(2)


async def clean_image_in_worker(data: bytes, field: str, max_pixels: int) -> CleanFile:
    async with _IMAGE_WORKERS:
        return await asyncio.to_thread(clean_image, data, field, max_pixels)


def check_pdf(data: bytes, field: str) -> CleanFile:
    if not data.startswith(b"%PDF-"):
        raise UploadRejected(field, "only PDF documents are accepted")
    return CleanFile(data=data, extension="pdf")


class MediaStore:
    """Files on local disk under generated names; the interface a bucket backend would keep."""

    def __init__(self, root: Path, url_prefix: str) -> None:
        self.root = root
        self.url_prefix = url_prefix.rstrip("/")

    def save(self, file: CleanFile) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_hex(16)}.{file.extension}"
        temporary = self.root / f".{name}.part"
        temporary.write_bytes(file.data)
        os.replace(temporary, self.root / name)  # readers never see half a file
        return name

    def delete(self, name: str | None) -> None:
        if name and _STORED_NAME.fullmatch(name):
            (self.root / name).unlink(missing_ok=True)

    def url(self, name: str | None) -> str | None:
        return f"{self.url_prefix}/{name}" if name else None

    def path(self, name: str) -> Path | None:
        if not _STORED_NAME.fullmatch(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def router(self) -> APIRouter:
        """GET <url_prefix>/<name>: stored files with a safe type and long caching."""
        router = APIRouter(tags=["media"])

        @router.get(self.url_prefix + "/{name}", include_in_schema=False)
        async def media(name: str) -> FileResponse:
            path = self.path(name)
            if path is None:
                raise HTTPException(404, detail="No such file")
            return FileResponse(
                path,
                media_type=CONTENT_TYPES[path.suffix.lstrip(".")],
                headers={
                    # Names are never reused, so the bytes behind a URL never change.
                    "Cache-Control": "public, max-age=31536000, immutable",
                    "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox",
                },
            )

        return router
