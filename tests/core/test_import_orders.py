"""Channel exports go in exactly once; every refused row is named with its line, column and reason."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from core.errors import InvalidInput
from core.models import Customer, ImportRun, Order, OrderLine, OutboxMessage
from core.services.actors import Actor, ActorKind
from core.services.channels.order_import import PRESETS, find_mapping, import_file
from core.services.channels.order_import.presets import Mapping
from core.services.channels.order_import.values import amount_minor, parse_time, split_address

TAOBAO = ["订单编号", "买家会员名", "买家实付金额", "买家应付货款", "买家应付邮费", "订单状态", "收货人姓名", "收货地址",
          "联系手机", "订单创建时间", "订单付款时间", "宝贝标题", "宝贝总数量", "商家编码"]


def taobao_row(no, *, status="买家已付款，等待卖家发货", phone="13800138000", paid="39.80", goods="39.80",
               address="浙江省 杭州市 西湖区 文三路100号2幢301室(310012)", created="2026-11-11 00:01:02",
               paid_at="2026-11-11 00:02:03", qty="2", title="龙井茶 250g"):
    return [no, "tb_buyer", paid, goods, "0.00", status, "张三", address, phone, created, paid_at, title, qty,
            "TEA-250"]


def write_csv(path, header, rows, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(db, path, mapping="taobao", actor="cli", **kwargs):
    """An import from the command line by `actor`."""
    return import_file(db, Actor(ActorKind.SYSTEM, actor, via="cli"), path,
                       mapping=PRESETS[mapping] if isinstance(mapping, str) else mapping, **kwargs)


def counts(summary):
    return summary.new, summary.updated, summary.unchanged, summary.rejected


def orders(db):
    with db.read() as session:
        return {o.channel_order_no: o for o in session.exec(select(Order))}


def test_broken_rows_are_refused_with_line_column_and_reason_and_the_rest_go_in(db, tmp_path):
    rows = [
        taobao_row("T1"),
        taobao_row("T2", phone="12345"),
        taobao_row("T3", paid="12.345"),
        taobao_row("T4", address="火星 乌托邦平原 1号"),
        taobao_row("T5", status="外星人签收"),
        taobao_row("T6", created="2026-13-45 25:00"),
        taobao_row("T7", qty="0"),
        taobao_row("T8", goods="abc"),
        taobao_row("", ),
        taobao_row("T10", status="交易成功"),
    ]
    summary = run(db, write_csv(tmp_path / "tb.csv", TAOBAO, rows))
    assert counts(summary) == (2, 0, 0, 8)
    assert [(r.line, r.column, r.message % r.params if r.params else r.message) for r in summary.rejections] == [
        (3, "联系手机", "This phone number is not valid."),
        (4, "买家实付金额", "12.345 has more than two decimals."),
        (5, "收货地址", "The address does not start with a province, region or municipality we know: "
                    "火星 乌托邦平原 1号"),
        (6, "订单状态", "Unknown order status 外星人签收."),
        (7, "订单创建时间", "2026-13-45 25:00 is not a date and time."),
        (8, "宝贝总数量", "A quantity must be at least 1."),
        (9, "买家应付货款", "abc is not an amount."),
        (10, "订单编号", "This column is empty."),
    ]
    stored = orders(db)
    assert sorted(stored) == ["T1", "T10"]
    t1 = stored["T1"]
    assert (t1.status, t1.total_minor, t1.paid_minor) == ("paid", 3980, 3980)
    assert (t1.ship_province, t1.ship_city, t1.ship_district, t1.ship_street, t1.ship_postal_code) == (
        "浙江省", "杭州市", "西湖区", "文三路100号2幢301室", "310012")
    # 00:02:03 in Shanghai is 16:02:03 UTC the day before.
    assert t1.paid_at == datetime(2026, 11, 10, 16, 2, 3, tzinfo=UTC)
    assert stored["T10"].status == "delivered"


def test_the_run_is_recorded_with_its_rejections(db, tmp_path):
    run(db, write_csv(tmp_path / "tb.csv", TAOBAO, [taobao_row("T1"), taobao_row("T2", phone="1")]), actor="ops")
    with db.read() as session:
        recorded = session.exec(select(ImportRun)).one()
    assert (recorded.file_name, recorded.channel, recorded.actor, recorded.new, recorded.rejected) == (
        "tb.csv", "taobao", "ops", 1, 1)
    assert json.loads(recorded.rejections)[0]["line"] == 3


def test_a_gbk_file_is_read(db, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", TAOBAO, [taobao_row("G1"), taobao_row("G2", title="碧螺春")],
                     encoding="gbk")
    assert counts(run(db, path)) == (2, 0, 0, 0)
    with db.read() as session:
        names = sorted(line.name for line in session.exec(select(OrderLine)))
    assert names == ["碧螺春", "龙井茶 250g"]
    assert orders(db)["G1"].ship_recipient == "张三"


def test_a_utf8_file_with_bom_is_read(db, tmp_path):
    path = write_csv(tmp_path / "bom.csv", TAOBAO, [taobao_row("B1")], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert counts(run(db, path)) == (1, 0, 0, 0)


def test_an_xlsx_file_is_read_with_numbers_and_dates_as_cells(db, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(TAOBAO)
    row = taobao_row("X1")
    row[2], row[3], row[8], row[12] = 39.8, 39.8, 13800138000, 2
    row[9], row[10] = datetime(2026, 11, 11, 0, 1, 2), datetime(2026, 11, 11, 0, 2, 3)
    sheet.append(row)
    sheet.append(taobao_row("X2", paid="1.005"))
    workbook.save(tmp_path / "orders.xlsx")
    summary = run(db, tmp_path / "orders.xlsx")
    assert counts(summary) == (1, 0, 0, 1)
    assert (summary.rejections[0].line, summary.rejections[0].column) == (3, "买家实付金额")
    x1 = orders(db)["X1"]
    assert (x1.paid_minor, x1.ship_phone) == (3980, "+8613800138000")
    assert x1.created_at == datetime(2026, 11, 10, 16, 1, 2, tzinfo=UTC)


def test_duplicate_rows_in_a_file_create_one_order(db, tmp_path):
    path = write_csv(tmp_path / "dup.csv", TAOBAO, [taobao_row("D1"), taobao_row("D2"), taobao_row("D1")])
    assert counts(run(db, path)) == (2, 0, 1, 0)
    assert len(orders(db)) == 2
    with db.read() as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 2


def test_an_overlapping_second_file_counts_new_updated_and_unchanged(db, tmp_path):
    first = write_csv(tmp_path / "a.csv", TAOBAO, [
        taobao_row("O1"), taobao_row("O2"), taobao_row("O3", status="等待买家付款", paid="0", paid_at="")])
    assert counts(run(db, first)) == (3, 0, 0, 0)
    second = write_csv(tmp_path / "b.csv", TAOBAO, [
        taobao_row("O2"),  # the same
        taobao_row("O3", paid_at="2026-11-11 01:00:00"),  # now paid
        taobao_row("O4"),
        taobao_row("O5"),
    ])
    assert counts(run(db, second)) == (2, 1, 1, 0)
    assert counts(run(db, second)) == (0, 0, 4, 0)
    stored = orders(db)
    assert len(stored) == 5 and stored["O3"].status == "paid"


def test_a_newer_status_updates_and_an_older_one_does_not(db, tmp_path):
    header = ["order_sn", "order_status", "created_time", "pay_time", "updated_at", "pay_amount", "postage",
              "goods_name", "goods_count", "goods_price", "outer_id", "receiver_name", "receiver_phone", "province",
              "city", "town", "address"]

    def pdd(status, updated):
        return ["PDD-1", status, "2026-11-11 10:00:00", "2026-11-11 10:01:00", updated, "9.90", "0", "纸巾",
                "1", "9.90", "TISSUE", "李四", "13912345678", "广东省", "深圳市", "南山区", "科技园南路 88 号"]

    assert counts(run(db, write_csv(tmp_path / "1.csv", header, [pdd("1", "2026-11-11 10:01:00")]),
                      "pinduoduo")) == (1, 0, 0, 0)
    newer = write_csv(tmp_path / "2.csv", header, [pdd("2", "2026-11-12 09:00:00")])
    assert counts(run(db, newer, "pinduoduo")) == (0, 1, 0, 0)
    assert orders(db)["PDD-1"].status == "shipped"
    older = write_csv(tmp_path / "3.csv", header, [pdd("1", "2026-11-11 12:00:00")])
    assert counts(run(db, older, "pinduoduo")) == (0, 0, 1, 0)
    order = orders(db)["PDD-1"]
    assert order.status == "shipped"
    assert order.source_status_at == datetime(2026, 11, 12, 1, 0, tzinfo=UTC)


def test_a_dry_run_across_batches_counts_as_the_import_does_and_never_holds_the_lock_for_the_whole_file(
        db, tmp_path):
    rows = [taobao_row(f"B{n}") for n in range(5)] + [taobao_row("B1"), taobao_row("B6")]
    path = write_csv(tmp_path / "batches.csv", TAOBAO, rows)
    dry = run(db, path, dry_run=True, batch_size=2)
    assert counts(dry) == (6, 0, 1, 0)
    assert orders(db) == {}
    real = run(db, path, batch_size=2)
    assert counts(real) == counts(dry)


def test_dry_run_counts_but_writes_nothing(db, tmp_path):
    path = write_csv(tmp_path / "dry.csv", TAOBAO, [taobao_row("R1"), taobao_row("R1"), taobao_row("R2", phone="")])
    summary = run(db, path, dry_run=True)
    assert counts(summary) == (1, 0, 1, 1)
    with db.read() as session:
        assert session.exec(select(Order)).all() == []
        assert session.exec(select(ImportRun)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []


def test_shopify_rows_of_one_order_become_its_lines_and_offsets_are_kept(db, tmp_path):
    header = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Currency",
              "Subtotal", "Shipping", "Taxes", "Total", "Discount Amount", "Created at", "Lineitem quantity",
              "Lineitem name", "Lineitem price", "Lineitem sku", "Shipping Name", "Shipping Phone",
              "Shipping Address1", "Shipping Address2", "Shipping City", "Shipping Zip", "Shipping Province",
              "Cancelled at"]
    first = ["#1001", "a@example.com", "paid", "2026-11-11 08:30:00 +0800", "unfulfilled", "", "CNY", "150.00",
             "10.00", "0", "160.00", "0.00", "2026-11-11 08:29:00 +0800", "1", "Tea set", "100.00", "SET-1",
             "王五", "+86 139 1234 5678", "人民路 1 号", "3 楼", "苏州市", "215000", "江苏省", ""]
    second = ["#1001", "a@example.com", "", "", "", "", "", "", "", "", "", "", "", "2", "Cup", "25.00", "CUP-1",
              "", "", "", "", "", "", "", ""]
    other = ["#1002", "b@example.com", "pending", "", "", "", "CNY", "25.00", "0", "0", "25.00", "0",
             "2026-11-11 09:00:00 +0800", "1", "Cup", "25.00", "CUP-1", "赵六", "13800138000", "中山路 2 号",
             "", "南京市", "210000", "江苏省", ""]
    summary = run(db, write_csv(tmp_path / "shopify.csv", header, [first, second, other]), "shopify")
    assert counts(summary) == (2, 0, 0, 0)
    stored = orders(db)
    order = stored["#1001"]
    assert (order.status, order.items_total_minor, order.shipping_minor, order.total_minor) == (
        "paid", 15000, 1000, 16000)
    assert order.paid_at == datetime(2026, 11, 11, 0, 30, tzinfo=UTC)
    assert order.ship_street == "人民路 1 号 3 楼"
    assert stored["#1002"].status == "pending_payment"
    with db.read() as session:
        emails = {c.phone: c.email for c in session.exec(select(Customer))}
    assert emails == {"+8613912345678": "a@example.com", "+8613800138000": "b@example.com"}


def test_a_file_without_the_mappings_columns_fails_as_a_whole(db, tmp_path):
    summary = run(db, write_csv(tmp_path / "jd.csv", ["订单号", "x"], [["1", "2"]]), "taobao")
    assert summary.failure and "订单编号" in summary.failure % summary.failure_params
    assert counts(summary) == (0, 0, 0, 0)


def test_a_custom_mapping_reads_its_own_columns(db, tmp_path):
    mapping = Mapping(name="mine", channel="own_shop", columns={
        "order_no": "单号", "status": "状态", "created_at": "时间", "recipient": "姓名", "phone": "手机",
        "full_address": "地址", "item_name": "商品", "quantity": "数量", "unit_price": "单价"}, timezone="UTC")
    path = write_csv(tmp_path / "mine.csv", ["单号", "状态", "时间", "姓名", "手机", "地址", "商品", "数量", "单价"],
                     [["M1", "paid", "2026-11-11 10:00", "周七", "13800138000", "上海市浦东新区世纪大道100号",
                       "茶", "3", "5"]])
    assert counts(run(db, path, mapping)) == (1, 0, 0, 0)
    order = orders(db)["M1"]
    assert (order.total_minor, order.ship_city, order.ship_district) == (1500, "上海市", "浦东新区")
    assert order.created_at == datetime(2026, 11, 11, 10, 0, tzinfo=UTC)


def test_an_unknown_mapping_name_is_refused(db):
    with pytest.raises(InvalidInput):
        find_mapping(db, "nope")


@pytest.mark.parametrize(("text", "minor"), [("12", 1200), ("12.3", 1230), ("¥1,234.56", 123456), ("0.10", 10),
                                             ("7.000", 700)])
def test_amounts_become_minor_units_exactly(text, minor):
    assert amount_minor("x", text) == minor


@pytest.mark.parametrize("text", ["1.001", "abc", "1e400x", "-3", "NaN", "Infinity"])
def test_amounts_that_are_not_money_are_refused(text):
    with pytest.raises(InvalidInput):
        amount_minor("x", text)


def test_times_with_an_offset_keep_it_and_without_take_the_channels_zone():
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_time("t", "2026/11/11 8:05", shanghai) == datetime(2026, 11, 11, 0, 5, tzinfo=UTC)
    assert parse_time("t", "2026-11-11 08:00:00", shanghai) == datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
    assert parse_time("t", "2026-11-11 08:00:00 -0500", shanghai) == datetime(2026, 11, 11, 13, 0, tzinfo=UTC)
    assert parse_time("t", "2026-11-11T08:00:00Z", shanghai) == datetime(2026, 11, 11, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "parts"), [
    ("浙江省 杭州市 西湖区 文三路100号(310012)", ("浙江省", "杭州市", "西湖区", "文三路100号", "310012")),
    ("北京 北京市 朝阳区 建国路88号", ("北京市", "北京市", "朝阳区", "建国路88号", "")),
    ("上海市浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号", "")),
    ("广西壮族自治区南宁市青秀区民族大道1号", ("广西壮族自治区", "南宁市", "青秀区", "民族大道1号", "")),
    ("内蒙古自治区锡林郭勒盟锡林浩特市额尔敦路5号", ("内蒙古自治区", "锡林郭勒盟", "锡林浩特市", "额尔敦路5号", "")),
    ("四川省阿坝藏族羌族自治州马尔康市达萨街1号", ("四川省", "阿坝藏族羌族自治州", "马尔康市", "达萨街1号", "")),
    ("新疆维吾尔自治区阿克苏地区库车市天山路2号", ("新疆维吾尔自治区", "阿克苏地区", "库车市", "天山路2号", "")),
    ("广东省东莞市南城街道宏图路1号", ("广东省", "东莞市", "", "南城街道宏图路1号", "")),
    ("香港特别行政区 油尖旺区 弥敦道100号", ("香港特别行政区", "香港特别行政区", "油尖旺区", "弥敦道100号", "")),
    ("中国 江苏省 苏州市 吴中区 木渎镇 中山路 3 号 215101", ("江苏省", "苏州市", "吴中区", "木渎镇 中山路 3 号", "215101")),
    ("湖北省恩施土家族苗族自治州恩施市舞阳大道1号", ("湖北省", "恩施土家族苗族自治州", "恩施市", "舞阳大道1号", "")),
    ("浙江 杭州市 余杭区 仓前街道 梦想小镇", ("浙江省", "杭州市", "余杭区", "仓前街道 梦想小镇", "")),
])
def test_one_string_addresses_are_split(text, parts):
    split = split_address(text)
    assert (split["province"], split["city"], split["district"], split["street"], split["postal_code"]) == parts


@pytest.mark.parametrize("text", ["杭州市西湖区文三路", "浙江省", "浙江省 杭州市", "Springfield 742 Evergreen"])
def test_addresses_that_cannot_be_split_are_refused(text):
    with pytest.raises(InvalidInput) as raised:
        split_address(text)
    assert raised.value.field == "address"


def test_the_command_reports_rejections_and_counts_and_dry_run_writes_nothing(tmp_path):
    from sqlalchemy import create_engine, text

    from core.migrate import upgrade
    from tests.core.test_cli import run_cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    path = write_csv(tmp_path / "export.csv", TAOBAO, [taobao_row("C1"), taobao_row("C2", qty="x")],
                     encoding="gb18030")
    env = {"DATABASE_URL": url, "ORDERDESK_VAR_DIR": str(tmp_path)}
    dry = run_cli("import-orders", str(path), "--channel", "taobao", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "line 3, column 宝贝总数量: x is not a whole number." in dry.stdout
    assert "Dry run (nothing written): 1 new, 0 updated, 0 unchanged, 1 rejected" in dry.stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 0
    done = run_cli("import-orders", str(path), "--channel", "taobao", env=env)
    assert "1 new, 0 updated, 0 unchanged, 1 rejected" in done.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM import_run")).scalar() == 1
    engine.dispose()
    wrong = run_cli("import-orders", str(path), "--channel", "jd", env=env)
    assert wrong.returncode == 1 and "has no column" in wrong.stderr


def test_small_batches_give_the_same_counts_across_batch_boundaries(db, tmp_path):
    rows = [taobao_row("B1"), taobao_row("B2"), taobao_row("B3", phone="1"), taobao_row("B1"),
            taobao_row("B4"), taobao_row("B2")]
    summary = run(db, write_csv(tmp_path / "b.csv", TAOBAO, rows), batch_size=2)
    assert counts(summary) == (3, 0, 2, 1)
    assert sorted(orders(db)) == ["B1", "B2", "B4"]


def test_orders_for_a_stocked_warehouse_reserve_their_units(db, tmp_path):
    from core.models import SkuStock
    from tests.factories import add_warehouse, set_stock

    warehouse = add_warehouse(db)
    set_stock(db, "TEA-250", warehouse.id, on_hand=5)
    rows = [taobao_row("W1", qty="2"), taobao_row("W2", qty="2", status="交易关闭")]
    assert counts(run(db, write_csv(tmp_path / "w.csv", TAOBAO, rows), warehouse_id=warehouse.id)) == (2, 0, 0, 0)
    with db.read() as session:
        assert session.exec(select(SkuStock)).one().reserved == 2


def _workbook_with_a_bomb(path, inflated_mb: int):  # noqa: ANN001, ANN202
    """A real workbook with one more part that inflates to `inflated_mb` MB of zeros (about 1000:1)."""
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(TAOBAO)
    workbook.active.append(taobao_row("B1"))
    workbook.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/media/padding.bin", "w") as part:
        chunk = b"\0" * (1 << 20)
        for _ in range(inflated_mb):
            part.write(chunk)
    return path


def test_an_xlsx_that_inflates_a_thousandfold_is_refused_before_it_is_parsed(db, tmp_path):
    summary = run(db, _workbook_with_a_bomb(tmp_path / "bomb.xlsx", inflated_mb=8))
    assert summary.failure and "unpacks to more than" in summary.failure
    assert counts(summary) == (0, 0, 0, 0) and orders(db) == {}


def test_an_xlsx_over_the_inflated_size_limit_is_refused(db, tmp_path, monkeypatch):
    from core.services.channels.order_import import reader

    path = _workbook_with_a_bomb(tmp_path / "big.xlsx", inflated_mb=0)
    monkeypatch.setattr(reader, "MAX_XLSX_INFLATED_BYTES", 4096)  # the workbook's own parts pass 4 KB
    summary = run(db, path)
    assert summary.failure and "unpacks to more than" in summary.failure
    assert orders(db) == {}


def test_a_file_with_more_rows_than_the_limit_stops_with_a_clear_failure(db, tmp_path, monkeypatch):
    from core.services.channels.order_import import reader

    monkeypatch.setattr(reader, "MAX_ROWS", 2)
    summary = run(db, write_csv(tmp_path / "many.csv", TAOBAO, [taobao_row(f"R{n}") for n in range(3)]))
    assert summary.failure and "more than %(n)s rows" in summary.failure


def test_an_order_the_database_refuses_is_one_refused_row_and_the_rest_of_its_batch_goes_in(db, tmp_path):
    from tests.database_refusals import database_refuses_order

    rows = [taobao_row("D1"), taobao_row("D2"), taobao_row("D3"), taobao_row("D4", phone="1"), taobao_row("D5")]
    with database_refuses_order(db, "D2"):
        summary = run(db, write_csv(tmp_path / "d.csv", TAOBAO, rows), batch_size=3)
    assert counts(summary) == (3, 0, 0, 2)
    assert sorted(orders(db)) == ["D1", "D3", "D5"]
    assert summary.failure == ""
    refused = {r.line: r for r in summary.rejections}
    assert sorted(refused) == [3, 5]
    assert refused[3].message == "The database refused this order (%(error)s)."
    with db.read() as session:
        recorded = session.exec(select(ImportRun)).one()
        texted = session.exec(select(OutboxMessage.order_id)).all()
    assert (recorded.new, recorded.rejected) == (3, 2)
    assert sorted(json.loads(recorded.rejections), key=lambda r: r["line"])[0]["line"] == 3
    assert len(texted) == 3  # a confirmation for each order that went in, none for the refused one
