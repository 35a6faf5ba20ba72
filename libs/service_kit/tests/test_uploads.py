"""Upload checks and the media store: no servers needed."""

import io
import re
import struct
import zlib
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, UploadFile
from PIL import Image

from service_kit.uploads import CleanFile, MediaStore, UploadRejected, check_pdf, clean_image, read_limited

MAX_PIXELS = 40_000_000


def image_bytes(image_format: str, size: tuple[int, int] = (64, 48), *, exif: bool = True) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # camera make
        tags[0x8825] = {2: (55.0, 45.0, 0.0)}  # GPS latitude
        tags[0x0112] = 6  # orientation: rotate 90 degrees
        image.save(buffer, format=image_format, exif=tags)
    else:
        image.save(buffer, format=image_format)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels but carries almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("image_format", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_clean_image_strips_exif_and_keeps_the_picture_upright(image_format: str, extension: str) -> None:
    original = image_bytes(image_format)
    assert b"SpyCam" in original
    cleaned = clean_image(original, "photo", MAX_PIXELS)
    assert cleaned.extension == extension
    assert b"SpyCam" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.format == image_format
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
        assert image.size == (48, 64), "the EXIF orientation is applied before it is dropped"


def test_trailing_payload_is_dropped() -> None:
    polyglot = image_bytes("JPEG", exif=False) + b"<?php system($_GET['c']); ?>"
    cleaned = clean_image(polyglot, "photo", MAX_PIXELS)
    assert b"<?php" not in cleaned.data


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,  # a Windows .exe renamed to .jpg
        b"%PDF-1.7\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"",
    ],
    ids=["exe", "pdf", "svg", "empty"],
)
def test_non_images_are_rejected(data: bytes) -> None:
    with pytest.raises(UploadRejected, match="photo"):
        clean_image(data, "photo", MAX_PIXELS)


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_images_outside_the_allow_list_are_rejected(image_format: str) -> None:
    with pytest.raises(UploadRejected, match="only JPEG, PNG or WebP"):
        clean_image(image_bytes(image_format, exif=False), "photo", MAX_PIXELS)


@pytest.mark.parametrize(
    "size",
    [(20_000, 20_000), (9_500, 9_500), (7_000, 7_000), (1, 50_000_000)],
    ids=["past-pillow-error", "past-pillow-warning", "past-our-limit", "one-long-line"],
)
def test_pixel_bombs_are_rejected_from_the_header(size: tuple[int, int]) -> None:
    with pytest.raises(UploadRejected, match="photo"):
        clean_image(png_header(*size), "photo", MAX_PIXELS)


def test_damaged_image_is_rejected() -> None:
    whole = image_bytes("JPEG", (256, 256), exif=False)
    with pytest.raises(UploadRejected, match="photo"):
        clean_image(whole[: len(whole) // 2], "photo", MAX_PIXELS)
    png = bytearray(image_bytes("PNG", exif=False))
    png[40] ^= 0xFF  # breaks a chunk's CRC
    with pytest.raises(UploadRejected, match="photo"):
        clean_image(bytes(png), "photo", MAX_PIXELS)


def test_check_pdf_goes_by_magic_bytes() -> None:
    document = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    assert check_pdf(document, "contract") == CleanFile(data=document, extension="pdf")
    for data in (b"MZ\x90\x00", b" %PDF-1.4", b"%PDF", b"PK\x03\x04", image_bytes("PNG", exif=False)):
        with pytest.raises(UploadRejected, match="contract"):
            check_pdf(data, "contract")


async def test_read_limited_enforces_size_and_emptiness() -> None:
    assert await read_limited(UploadFile(io.BytesIO(b"x" * 1000)), 1024, "file") == b"x" * 1000
    with pytest.raises(UploadRejected, match="larger than 1 MiB"):
        await read_limited(UploadFile(io.BytesIO(b"x" * (1024 * 1024 + 1))), 1024 * 1024, "file")
    with pytest.raises(UploadRejected, match="empty"):
        await read_limited(UploadFile(io.BytesIO(b"")), 1024, "file")


def test_media_store_saves_under_generated_names(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", "/media/")
    name = store.save(CleanFile(data=b"%PDF-1.4 test", extension="pdf"))
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", name)
    assert store.path(name) == tmp_path / "media" / name
    assert (tmp_path / "media" / name).read_bytes() == b"%PDF-1.4 test"
    assert store.url(name) == f"/media/{name}"
    assert store.url(None) is None
    assert [path.name for path in (tmp_path / "media").iterdir()] == [name], "no temporary file left behind"
    store.delete(name)
    assert store.path(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "../" + "a" * 32 + ".jpg",
        "/etc/passwd",
        "..",
        "a" * 32 + ".jpg/../../secret.txt",
        "a" * 32 + ".exe",
        "A" * 32 + ".jpg",
        "",
    ],
)
def test_media_store_refuses_names_it_did_not_make(tmp_path: Path, name: str) -> None:
    root = tmp_path / "media"
    root.mkdir()
    victim = tmp_path / "secret.txt"
    victim.write_text("keep me")
    (tmp_path / ("a" * 32 + ".jpg")).write_bytes(b"outside the root")
    store = MediaStore(root, "/media")
    assert store.path(name) is None
    store.delete(name)
    assert victim.read_text() == "keep me"
    assert (tmp_path / ("a" * 32 + ".jpg")).exists()


async def test_media_router_serves_stored_files_only(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", "/media")
    (tmp_path / "secret.txt").write_text("keep me")
    name = store.save(clean_image(image_bytes("PNG"), "photo", MAX_PIXELS))
    app = FastAPI()
    app.include_router(store.router())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://media") as client:
        response = await client.get(f"/media/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in response.headers["cache-control"]
        for path in ("/media/..%2Fsecret.txt", "/media/%2E%2E%2Fsecret.txt", f"/media/{name[:-4]}.pdf"):
            assert (await client.get(path)).status_code == 404, path
