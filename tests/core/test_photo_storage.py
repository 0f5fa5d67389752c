"""Photo storage: the local directory and S3-compatible object storage (against a real
S3 server, moto's, over HTTP on loopback), and the checks every photo passes before it
is stored (content not name, size, metadata removed)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.config import load_settings
from core.errors import InvalidInput
from core.services.disputes import photos
from core.services.disputes.photos import MAX_PHOTO_BYTES, Upload
from core.storage import PhotoNotFound, get_photo_storage
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage
from tests.photos import jpeg_with_gps, local_s3_server, png_bytes, png_of


@pytest.fixture(scope="module")
def s3_server():
    with local_s3_server() as url:
        yield url


@pytest.fixture
def s3_storage(s3_server, monkeypatch) -> S3Storage:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    storage = S3Storage(endpoint_url=s3_server, bucket="orderdesk-photos", access_key_id="test-key",
                        secret_access_key="test-secret", region="us-east-1")
    storage.client.create_bucket(Bucket="orderdesk-photos")
    return storage


def _round_trip(storage) -> None:  # noqa: ANN001
    storage.put("disputes/7/abc.jpg", b"\xff\xd8photo", "image/jpeg")
    assert storage.get("disputes/7/abc.jpg") == b"\xff\xd8photo"
    storage.delete("disputes/7/abc.jpg")
    with pytest.raises(PhotoNotFound):
        storage.get("disputes/7/abc.jpg")
    storage.delete("disputes/7/abc.jpg")  # already gone: not an error


def test_local_storage_puts_gets_and_deletes(tmp_path):
    storage = LocalStorage(tmp_path)
    _round_trip(storage)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_local_storage_refuses_keys_that_climb_out_of_its_directory(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    for key in ("../secret_key", "/etc/passwd", "disputes/../../x"):
        with pytest.raises(ValueError):
            storage.put(key, b"x", "image/jpeg")


def test_s3_storage_puts_gets_and_deletes_on_a_real_s3_server(s3_storage):
    _round_trip(s3_storage)
    s3_storage.put("disputes/8/def.jpg", b"abc", "image/jpeg")
    head = s3_storage.client.head_object(Bucket="orderdesk-photos", Key="disputes/8/def.jpg")
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == 3


def test_settings_choose_s3_when_a_bucket_is_configured(s3_server, tmp_path):
    base = {"ORDERDESK_VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 40}
    assert isinstance(get_photo_storage(load_settings(base)), LocalStorage)
    secret_file = tmp_path / "s3-secret"
    secret_file.write_text("test-secret\n")
    settings = load_settings({**base, "S3_ENDPOINT_URL": s3_server, "S3_BUCKET": "orderdesk-second", "S3_ACCESS_KEY_ID": "k",
                              "S3_SECRET_ACCESS_KEY_FILE": str(secret_file)})
    storage = get_photo_storage(settings)
    assert isinstance(storage, S3Storage) and settings.s3_secret_access_key == "test-secret"
    storage.client.create_bucket(Bucket="orderdesk-second")
    _round_trip(storage)


def test_s3_settings_half_given_stop_the_start(tmp_path):
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="S3_BUCKET is required"):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "S3_ENDPOINT_URL": "http://127.0.0.1:9000"})
    with pytest.raises(ConfigError, match="S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together"):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k"})


# --- the checks before storage ------------------------------------------------------------------


def test_a_phone_jpeg_loses_its_gps_and_camera_data_and_is_turned_upright():
    original = jpeg_with_gps(size=(64, 48), orientation=6)  # 6: rotate 90° clockwise to view
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test file does carry GPS
    prepared = photos.prepare(Upload("IMG_0001.jpg", original))
    image = Image.open(io.BytesIO(prepared.data))
    assert image.format == "JPEG" and prepared.media_type == "image/jpeg"
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"PhoneMaker" not in prepared.data and b"GPS" not in prepared.data
    assert image.size == (48, 64)  # the orientation was applied to the pixels before the tag went


def test_png_with_transparency_becomes_a_jpeg():
    prepared = photos.prepare(Upload("screenshot.png", png_bytes()))
    assert Image.open(io.BytesIO(prepared.data)).format == "JPEG" and (prepared.width, prepared.height) == (40, 30)


def test_text_named_jpg_is_not_a_photo():
    with pytest.raises(InvalidInput) as refused:
        photos.prepare(Upload("parcel.jpg", b"%PDF-1.7 this is not an image at all" * 10))
    assert refused.value.field == "photos" and "is not a photo" in refused.value.message


def test_a_file_over_the_size_limit_is_refused_before_decoding():
    with pytest.raises(InvalidInput) as refused:
        photos.prepare(Upload("huge.jpg", b"\xff\xd8" + b"0" * MAX_PHOTO_BYTES))
    assert "larger than" in refused.value.message


def test_seven_photos_are_refused():
    with pytest.raises(InvalidInput, match="At most"):
        photos.prepare_all([Upload(f"{n}.jpg", jpeg_with_gps()) for n in range(7)])


def test_a_real_image_of_another_format_is_refused_too():
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    tiff = io.BytesIO()
    Image.new("RGB", (10, 10)).save(tiff, format="TIFF")
    for name, data in (("anim.jpg", gif.getvalue()), ("scan.jpg", tiff.getvalue())):
        with pytest.raises(InvalidInput, match="is not a photo"):
            photos.prepare(Upload(name, data))


def test_webp_is_accepted():
    webp = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(webp, format="WEBP")
    assert photos.prepare(Upload("x.webp", webp.getvalue())).width == 30


def _header_only(png: bytes) -> bytes:
    """The PNG's signature and IHDR (its size) with the pixel data cut off: decoding it would fail,
    so a refusal that names the pixels proves the photo was priced from its header, never decoded."""
    return png[:64]


def test_a_49_megapixel_png_is_refused_from_its_header_before_any_decoding():
    bomb = _header_only(png_of((7000, 7000)))
    with pytest.raises(InvalidInput) as refused:
        photos.prepare_all([Upload("bomb.png", bomb)])
    assert refused.value.field == "photos" and "too many pixels" in refused.value.message


def test_six_large_pngs_are_refused_together_before_the_first_is_decoded():
    large = _header_only(png_of((4000, 3250)))  # 13 MP each: each alone is allowed, six are not
    with pytest.raises(InvalidInput) as refused:
        photos.prepare_all([Upload(f"{n}.png", large) for n in range(6)])
    assert "too large together" in refused.value.message


def test_a_50_megapixel_jpeg_is_decoded_at_a_reduced_scale_and_kept():
    assert photos.decode_cost("JPEG", 8160, 6120) == 4080 * 3060
    jpeg = io.BytesIO()
    Image.new("RGB", (8160, 6120), (90, 120, 150)).save(jpeg, format="JPEG")
    prepared = photos.prepare(Upload("phone.jpg", jpeg.getvalue()))
    assert max(prepared.width, prepared.height) == photos.MAX_EDGE


def test_a_png_decodes_at_full_size_so_its_limit_is_lower():
    assert photos.decode_cost("PNG", 8160, 6120) == 8160 * 6120
    with pytest.raises(InvalidInput, match="too many pixels"):
        photos.prepare(Upload("big.png", _header_only(png_of((5000, 4000)))))
