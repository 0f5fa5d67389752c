"""Report a problem from the order page: which kinds are offered when, the damaged
parcel with photos (checked, stripped, stored), refusals that save nothing, merging
a second report into the open case, other customers' 404s, CSRF on the multipart
form, the per-customer limit, and what the shopper sees of the case afterwards."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from core.config import get_settings
from core.models import Dispute, DisputeAction, DisputePhoto, ProblemReport
from core.services.actors import Actor
from core.services.disputes import problem_reports
from core.services.disputes.photos import MAX_PHOTO_BYTES, Upload
from core.services.orders import lifecycle as order_service
from core.storage import get_photo_storage
from tests.factories import ALICE_PHONE, make_order, ship
from tests.photos import jpeg_with_gps, png_bytes
from tests.portal.pages import HTMX, csrf_token, is_fragment, soup, text, texts

FORM = "form.problem-form"


def stored_files() -> set[str]:
    root = get_settings().upload_dir
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def disputes_of(db, ref: str) -> list[Dispute]:  # noqa: ANN001
    order = order_service.get_order(db, ref)
    with db.read() as session:
        return list(session.exec(select(Dispute).where(Dispute.order_id == order.id).order_by(Dispute.id)).all())


def past_its_promise(db, ref: str, hours: int = 2) -> None:  # noqa: ANN001
    with db.write() as session:
        order = order_service.lock_order(session, ref)
        order.promised_delivery_by = datetime.now(UTC) - timedelta(hours=hours)
        session.add(order)


def report(client, ref: str, *, kind: str, description: str = "", photos=(), token: str | None = None,  # noqa: ANN001
           headers: dict | None = None):
    """Fill in and send the form the way a browser does (multipart, with the page's CSRF field)."""
    if token is None:
        page = client.get(f"/orders/{ref}/problem")
        assert page.status_code == 200
        token = csrf_token(soup(page))
    data = {"kind": kind, "description": description}
    if token:
        data["_csrf_token"] = token
    files = [("photos", (name, content, "image/jpeg")) for name, content in photos] or [
        ("photos", ("", b"", "application/octet-stream"))]
    return client.post(f"/orders/{ref}/problem", data=data, files=files, headers=headers or {},
                       follow_redirects=False)


def offered(client, ref: str) -> list[str]:  # noqa: ANN001
    page = soup(client.get(f"/orders/{ref}/problem"))
    return [radio["value"] for radio in page.select(FORM + " input[name=kind]")]


def test_not_received_is_offered_only_once_delivered_or_past_the_promise(alice, db, cast):
    in_transit = cast.alice_shipped.ref
    order_page = soup(alice.get(f"/orders/{in_transit}"))
    assert "Report a problem" not in text(order_page.find("main") or order_page)
    assert offered(alice, in_transit) == []
    assert "nothing to report for this order yet" in text(soup(alice.get(f"/orders/{in_transit}/problem")))
    refused = report(alice, in_transit, kind="not_received", token=csrf_token(soup(alice.get("/orders"))))
    assert refused.status_code == 422 and disputes_of(db, in_transit) == []

    assert offered(alice, cast.alice_delivered.ref) == ["not_received", "damaged", "wrong_item"]
    page = soup(alice.get(f"/orders/{cast.alice_delivered.ref}"))
    assert [a["href"] for a in page.select("#cases a.button")] == [f"/orders/{cast.alice_delivered.ref}/problem"]

    past_its_promise(db, in_transit)
    assert offered(alice, in_transit) == ["not_received", "late"]
    assert offered(alice, cast.alice_paid.ref) == []  # not shipped, promise not passed
    past_its_promise(db, cast.alice_paid.ref)
    assert offered(alice, cast.alice_paid.ref) == ["not_received", "late"]
    assert offered(alice, cast.alice_unpaid.ref) == []


def test_damaged_parcel_with_a_phone_photo_opens_a_dispute_with_the_evidence_and_a_clean_photo(alice, db, cast):
    ref = cast.alice_delivered.ref
    before = stored_files()
    original = jpeg_with_gps(size=(80, 60))
    sent = report(alice, ref, kind="damaged", description="箱子压扁了，茶叶罐凹陷", photos=[("IMG_2041.JPG", original)])
    assert sent.status_code == 303 and sent.headers["location"] == f"/orders/{ref}?done=problem#cases"

    (dispute,) = disputes_of(db, ref)
    assert (dispute.kind, dispute.status, dispute.claim) == ("damaged", "evidence_ready", "箱子压扁了，茶叶罐凹陷")
    assert dispute.evidence_pack_id is not None
    with db.read() as session:
        (photo,) = session.exec(select(DisputePhoto).where(DisputePhoto.dispute_id == dispute.id)).all()
        actions = [a.kind for a in session.exec(select(DisputeAction).where(DisputeAction.dispute_id == dispute.id))]
    assert actions == ["opened", "evidence"]
    assert stored_files() - before == {photo.storage_key}
    stored = get_photo_storage(get_settings()).get(photo.storage_key)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and dict(image.getexif()) == {} and b"PhoneMaker" not in stored
    assert photo.original_name == "IMG_2041.JPG" and not photo.storage_key.endswith("IMG_2041.JPG")

    page = soup(alice.get(sent.headers["location"]))
    assert "Your report is with our team" in text(page.select_one("#cases .notice"))
    case = page.select_one("#cases .case")
    assert texts(case, "h3") == ["Arrived damaged"] and "Received, we are looking into it" in text(case)
    assert "箱子压扁了，茶叶罐凹陷" in text(case)
    (img,) = case.select("img")
    shown = alice.get(img["src"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg" and shown.content == stored
    assert "no-store" in shown.headers["cache-control"]


def test_a_photo_over_ten_megabytes_is_refused_beside_the_field_and_nothing_is_saved(alice, db, cast):
    ref = cast.alice_delivered.ref
    before = stored_files()
    huge = jpeg_with_gps() + b"\0" * MAX_PHOTO_BYTES
    refused = report(alice, ref, kind="damaged", description="碎了", photos=[("ok.jpg", jpeg_with_gps()),
                                                                              ("huge.jpg", huge)])
    assert refused.status_code == 422
    page = soup(refused)
    assert text(page.select_one("#e-photos")) == "huge.jpg is larger than 10 MB. Choose a smaller photo."
    assert page.select_one("#f-description").get_text() == "碎了"  # what was typed is kept
    assert page.select_one(FORM + " input[name=kind][value=damaged]").has_attr("checked")
    assert disputes_of(db, ref) == [] and stored_files() == before


def test_a_text_file_named_jpg_is_refused(alice, db, cast):
    ref = cast.alice_delivered.ref
    refused = report(alice, ref, kind="damaged", photos=[("photo.jpg", b"GIF89a? no: plain text " * 40)])
    assert refused.status_code == 422
    assert text(soup(refused).select_one("#e-photos")) == "photo.jpg is not a photo (JPEG, PNG or WebP)."
    assert disputes_of(db, ref) == []


def test_seven_photos_are_refused(alice, db, cast):
    ref = cast.alice_delivered.ref
    refused = report(alice, ref, kind="damaged", photos=[(f"{n}.jpg", jpeg_with_gps()) for n in range(7)])
    assert refused.status_code == 422
    assert text(soup(refused).select_one("#e-photos")) == "At most 6 photos, please."
    assert disputes_of(db, ref) == []


def test_damaged_needs_a_photo_and_wrong_item_a_description(alice, db, cast):
    ref = cast.alice_delivered.ref
    no_photo = soup(report(alice, ref, kind="damaged"))
    assert text(no_photo.select_one("#e-photos")) == "Add at least one photo of the damage."
    no_text = soup(report(alice, ref, kind="wrong_item"))
    assert text(no_text.select_one("#e-description")) == "Tell us what you received instead."
    nothing = soup(report(alice, ref, kind=""))
    assert text(nothing.select_one("#e-kind")) == "Choose what went wrong."
    assert disputes_of(db, ref) == []


def test_a_second_report_of_the_same_kind_is_added_to_the_open_case(alice, db, cast):
    ref = cast.alice_delivered.ref
    assert report(alice, ref, kind="damaged", description="外箱破损", photos=[("a.jpg", jpeg_with_gps())]).status_code == 303
    assert report(alice, ref, kind="damaged", description="里面的杯子也碎了",
                  photos=[("b.png", png_bytes()), ("c.jpg", jpeg_with_gps())]).status_code == 303
    assert report(alice, ref, kind="wrong_item", description="收到的是红茶").status_code == 303

    damaged, wrong = disputes_of(db, ref)
    assert (damaged.kind, wrong.kind) == ("damaged", "wrong_item")
    with db.read() as session:
        photos = session.exec(select(DisputePhoto).where(DisputePhoto.dispute_id == damaged.id)).all()
        actions = session.exec(select(DisputeAction).where(DisputeAction.dispute_id == damaged.id)
                               .order_by(DisputeAction.id)).all()
    assert len(photos) == 3
    assert [a.kind for a in actions] == ["opened", "evidence", "customer_report"]
    assert json.loads(actions[-1].detail)["photos"] == 2

    case = soup(alice.get(f"/orders/{ref}")).select_one(f"#case-{damaged.id}")
    assert texts(case, ".from-customer .message-text") == ["外箱破损", "里面的杯子也碎了"]
    assert len(case.select("img")) == 3


def test_another_customer_gets_404_for_the_page_the_post_and_the_photo(alice, bob, db, cast):
    ref = cast.alice_delivered.ref
    report(alice, ref, kind="damaged", photos=[("a.jpg", jpeg_with_gps())])
    photo_url = soup(alice.get(f"/orders/{ref}")).select_one("#cases img")["src"]
    assert alice.get(photo_url).status_code == 200

    assert bob.get(f"/orders/{ref}/problem").status_code == 404
    bob_token = csrf_token(soup(bob.get(f"/orders/{cast.bob_paid.ref}/address")))
    assert report(bob, ref, kind="damaged", photos=[("b.jpg", jpeg_with_gps())], token=bob_token).status_code == 404
    assert bob.get(photo_url).status_code == 404
    # Bob's own order reference with Alice's photo id: still nothing.
    assert bob.get(photo_url.replace(ref, cast.bob_shipped.ref)).status_code == 404
    assert len(disputes_of(db, ref)) == 1


def test_a_multipart_report_without_the_csrf_field_is_refused(alice, db, cast):
    ref = cast.alice_delivered.ref
    alice.get(f"/orders/{ref}/problem")  # the CSRF cookie is set
    refused = report(alice, ref, kind="damaged", photos=[("a.jpg", jpeg_with_gps())], token="")
    assert refused.status_code == 403
    forged = report(alice, ref, kind="damaged", photos=[("a.jpg", jpeg_with_gps())], token="forged-token")
    assert forged.status_code == 403
    assert disputes_of(db, ref) == []


def test_htmx_gets_the_form_fragment_with_errors_then_the_thank_you(alice, db, cast):
    ref = cast.alice_delivered.ref
    page = soup(alice.get(f"/orders/{ref}/problem"))
    form = page.select_one(FORM)
    assert form["enctype"] == "multipart/form-data" and form["hx-post"] == form["action"]
    assert form.select_one("input[type=file][name=photos][multiple]")["accept"] == "image/*"
    headers = {**HTMX, **json.loads(page.body["hx-headers"])}
    wrong = report(alice, ref, kind="wrong_item", token="", headers=headers)
    assert wrong.status_code == 422 and is_fragment(soup(wrong))
    done = report(alice, ref, kind="wrong_item", description="收到的是红茶", token="", headers=headers)
    assert done.status_code == 200 and is_fragment(soup(done))
    assert "Your report is with our team" in text(soup(done))


def test_more_than_ten_reports_a_day_are_refused(alice, db, cast):
    ref = cast.alice_delivered.ref
    other = make_order(db, paid=True)
    ship(db, other.ref)
    past_its_promise(db, other.ref)
    for n in range(problem_reports.DAILY_LIMIT):
        target = ref if n % 2 else other.ref
        assert report(alice, target, kind="not_received", description=f"#{n}").status_code == 303
    refused = report(alice, ref, kind="not_received", description="again")
    assert refused.status_code == 429
    assert "You have sent 10 reports today" in text(soup(refused).select_one("[role=alert]"))
    # Over the limit, photos are not even looked at (decoding six of them is the costly part).
    with_junk = report(alice, ref, kind="damaged", photos=[("a.jpg", b"not a photo")])
    assert with_junk.status_code == 429
    with db.read() as session:
        assert len(session.exec(select(ProblemReport)).all()) == problem_reports.DAILY_LIMIT


def test_photos_are_removed_when_the_dispute_cannot_be_saved(alice, db, cast, monkeypatch):
    ref = cast.alice_delivered.ref
    before = stored_files()

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("database went away")

    monkeypatch.setattr(problem_reports, "_record", broken)
    with pytest.raises(RuntimeError):
        problem_reports.report_problem(db, Actor.customer("+8613800138000"), ref,
                                       storage=get_photo_storage(get_settings()), kind="damaged", description="",
                                       uploads=[Upload("a.jpg", jpeg_with_gps())])
    assert stored_files() == before and disputes_of(db, ref) == []


def test_a_report_whose_history_line_cannot_be_written_leaves_no_dispute_no_rows_and_no_photos(alice, db, cast):
    """The dispute, the report, its photos' rows and the order's history are one transaction: an INSERT
    refused at the end of it (the history line) takes the others with it, and the stored photos go."""
    from sqlalchemy import event

    from core.models import OrderHistory

    ref = cast.alice_delivered.ref
    before = stored_files()

    def refuse(*_args) -> None:  # noqa: ANN002
        raise RuntimeError("history insert refused")

    event.listen(OrderHistory, "before_insert", refuse)
    try:
        with pytest.raises(RuntimeError, match="history insert refused"):
            problem_reports.report_problem(db, Actor.customer("+86" + ALICE_PHONE), ref,
                                           storage=get_photo_storage(get_settings()), kind="damaged",
                                           description="碎了", uploads=[Upload("a.jpg", jpeg_with_gps())])
    finally:
        event.remove(OrderHistory, "before_insert", refuse)
    assert disputes_of(db, ref) == [] and stored_files() == before
    with db.read() as session:
        assert session.exec(select(ProblemReport)).all() == [] and session.exec(select(DisputePhoto)).all() == []


def test_a_shopper_cannot_report_on_another_customers_order_through_the_use_case(db, cast):
    from core.errors import NotFound
    from tests.factories import BOB_PHONE

    with pytest.raises(NotFound):
        problem_reports.report_problem(db, Actor.customer("+86" + BOB_PHONE), cast.alice_delivered.ref,
                                       storage=get_photo_storage(get_settings()), kind="not_received",
                                       description="", uploads=[])
    assert disputes_of(db, cast.alice_delivered.ref) == []


def test_a_request_over_the_total_limit_is_refused_with_a_clear_page_and_nothing_saved(alice, db, cast):
    from portal.problems import REPORT_BODY_LIMIT

    ref = cast.alice_delivered.ref
    before = stored_files()
    piece = jpeg_with_gps() + b"\0" * (9 * 1024 * 1024)
    count = REPORT_BODY_LIMIT // len(piece) + 1
    refused = report(alice, ref, kind="damaged", photos=[(f"{n}.jpg", piece) for n in range(count)])
    assert refused.status_code == 413
    assert "at most 6 photos of 10 MB each" in text(soup(refused).find("main") or soup(refused))
    assert disputes_of(db, ref) == [] and stored_files() == before


def test_retention_deletes_the_shoppers_photos_and_words_with_the_rest_of_their_data(alice, db, cast):
    from core.jobs.tasks import retention

    ref = cast.alice_delivered.ref
    report(alice, ref, kind="damaged", description="放在门口被压坏了，收件人张三", photos=[("a.jpg", jpeg_with_gps())])
    (dispute,) = disputes_of(db, ref)
    with db.read() as session:
        (photo,) = session.exec(select(DisputePhoto)).all()
    assert photo.storage_key in stored_files()
    from core.services.actors import Actor
    from core.services.disputes import cases as dispute_service
    from core.services.identity.staff import create_staff

    agent = create_staff(db, Actor.system(via="test"), email="agent@shop.test", role="support",
                         password="correct horse battery staple")
    dispute_service.reply_to_customer(db, Actor.staff_member(agent), dispute.id, "张三您好，已为您补发到文三路 100 号。")

    later = datetime.now(UTC) + timedelta(days=365 * 3 + 30)
    assert retention(db, get_settings(), later).endswith("1 photos deleted")
    assert photo.storage_key not in stored_files()
    with db.read() as session:
        assert session.exec(select(DisputePhoto)).all() == []
        assert [r.description for r in session.exec(select(ProblemReport)).all()] == [""]
        assert session.get(Dispute, dispute.id).claim == ""
        kept = " ".join(a.detail for a in session.exec(select(DisputeAction)).all())
    assert "张三" not in kept and "文三路" not in kept


def test_with_a_bucket_configured_the_photos_go_to_s3_and_are_served_from_there(db, cast):
    import dataclasses
    import uuid

    from litestar.testing import TestClient

    from app import create_app
    from tests.factories import ALICE_PHONE
    from tests.photos import local_s3_server
    from tests.portal.conftest import sign_in

    # moto keeps its buckets per process, across servers: a bucket of this test's own.
    bucket_name = f"orderdesk-photos-{uuid.uuid4().hex[:8]}"
    with local_s3_server() as endpoint:
        settings = dataclasses.replace(get_settings(), s3_endpoint_url=endpoint, s3_bucket=bucket_name,
                                       s3_access_key_id="test-key", s3_secret_access_key="test-secret")
        bucket = get_photo_storage(settings)
        bucket.client.create_bucket(Bucket=bucket_name)
        before = stored_files()
        with TestClient(app=create_app(settings, db), base_url="http://127.0.0.1") as client:
            client.get("/lang/en")
            sign_in(client, db, ALICE_PHONE)
            ref = cast.alice_delivered.ref
            assert report(client, ref, kind="damaged", photos=[("a.jpg", jpeg_with_gps())]).status_code == 303
            with db.read() as session:
                (photo,) = session.exec(select(DisputePhoto)).all()
            keys = [o["Key"] for o in bucket.client.list_objects_v2(Bucket=bucket_name).get("Contents", [])]
            assert keys == [photo.storage_key] and stored_files() == before
            url = soup(client.get(f"/orders/{ref}")).select_one("#cases img")["src"]
            shown = client.get(url)
            assert shown.status_code == 200 and shown.content == bucket.get(photo.storage_key)


def test_two_reports_sent_at_the_same_moment_end_in_one_dispute(db, cast):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    ref = cast.alice_delivered.ref
    storage = get_photo_storage(get_settings())
    start = Barrier(2)

    def send(n: int):  # noqa: ANN202
        start.wait()
        return problem_reports.report_problem(db, Actor.customer("+8613800138000"), ref, storage=storage,
                                              kind="not_received", description=f"tab {n}", uploads=[])

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(send, range(2)))
    assert sorted(o.merged for o in outcomes) == [False, True]
    assert len({o.dispute_id for o in outcomes}) == 1 and len(disputes_of(db, ref)) == 1
