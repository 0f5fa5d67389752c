"""What the demo draws its shops and shoppers from: warehouses, service terms, products, names,
places, and each channel's order numbers."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from core.models import Channel
from core.services.orders.addresses import ShippingAddress

WAREHOUSES = [
    ("HZ", "杭州萧山仓", "浙江省", "杭州市"),
    ("GZ", "广州白云仓", "广东省", "广州市"),
    ("CD", "成都双流仓", "四川省", "成都市"),
]

TERMS = [
    (
        "2026.1",
        "售后服务条款（2026年第1版）",
        48,
        5,
        datetime(2025, 12, 1, tzinfo=UTC),
        "1. 发货时效：付款后 48 小时内发货（预售商品以页面标注日期为准）。\n"
        "2. 配送时效：发货后 5 日内送达，偏远地区顺延 2 日。\n"
        "3. 破损赔付：签收时发现外包装破损或商品损坏，请当场拒收或于 48 小时内拍照联系客服，"
        "核实后补发或全额退款。\n"
        "4. 延误补偿：超出承诺送达时间 24 小时以上，补偿 5 元无门槛券。\n"
        "5. 退换货：签收后 7 天无理由退货（定制商品除外），运费由买家承担。",
    ),
    (
        "2026.2",
        "售后服务条款（2026年第2版）",
        24,
        4,
        datetime(2026, 9, 1, tzinfo=UTC),
        "1. 发货时效：付款后 24 小时内发货（预售商品以页面标注日期为准）。\n"
        "2. 配送时效：发货后 4 日内送达，新疆、西藏、青海顺延 3 日。\n"
        "3. 破损赔付：签收 48 小时内凭照片申请，核实后补发或全额退款，无需退回破损商品。\n"
        "4. 延误补偿：超出承诺送达时间 12 小时以上，补偿 10 元无门槛券；超过 72 小时可申请全额退款。\n"
        "5. 退换货：签收后 7 天无理由退货，首次退货运费由商家承担。\n"
        "6. 地址修改：订单发货前可在订单页自助修改收货地址，发货后请联系快递改派。",
    ),
]

PRODUCTS = [
    ("SKU-TEA-001", "西湖龙井 明前特级 250g", 36800),
    ("SKU-TEA-002", "正山小种红茶 礼盒装 200g", 19800),
    ("SKU-CUP-010", "景德镇手绘陶瓷马克杯", 8900),
    ("SKU-BAG-021", "帆布托特包 大容量", 12900),
    ("SKU-PHN-031", "磁吸无线充电宝 10000mAh", 15900),
    ("SKU-PHN-032", "快充数据线 Type-C 1.5m", 2990),
    ("SKU-SKN-041", "玻尿酸补水面膜 10片装", 9900),
    ("SKU-SKN-042", "氨基酸洁面乳 120g", 6900),
    ("SKU-SNK-051", "每日坚果 30袋装", 12800),
    ("SKU-SNK-052", "云南鲜花饼 礼盒 12枚", 5800),
    ("SKU-HOM-061", "纯棉四件套 1.8m床", 39900),
    ("SKU-HOM-062", "记忆棉枕头", 14900),
    ("SKU-KID-071", "儿童益智积木 200粒", 16900),
    ("SKU-SPT-081", "瑜伽垫 加厚 10mm", 7900),
    ("SKU-SPT-082", "跑步运动袜 5双装", 3990),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀兰", "霞", "平", "刚", "桂英", "子涵", "雨桐", "浩然", "梓萱", "一诺", "欣怡", "宇轩", "思远",
]

# (province, city, district, street templates, postal code prefix)
PLACES = [
    ("北京市", "北京市", "朝阳区", ["建国路88号SOHO现代城{b}号楼{r}室", "望京街道阜通东大街{n}号院{b}号楼{r}"], "1000"),
    ("上海市", "上海市", "浦东新区", ["张杨路{n}号{b}栋{r}室", "世纪大道{n}弄{b}号{r}"], "2001"),
    ("上海市", "上海市", "徐汇区", ["漕溪北路{n}号{b}号楼{r}室"], "2000"),
    ("广东省", "深圳市", "南山区", ["科技园南区粤海街道{n}号{b}栋{r}", "蛇口工业八路{n}号{r}室"], "5180"),
    ("广东省", "广州市", "天河区", ["天河北路{n}号{b}座{r}", "珠江新城华夏路{n}号{r}室"], "5106"),
    ("浙江省", "杭州市", "西湖区", ["文三路{n}号{b}幢{r}室", "古墩路{n}号{b}单元{r}"], "3100"),
    ("江苏省", "南京市", "鼓楼区", ["中山北路{n}号{b}栋{r}室"], "2100"),
    ("四川省", "成都市", "武侯区", ["人民南路四段{n}号{b}栋{r}", "科华北路{n}号{r}室"], "6100"),
    ("湖北省", "武汉市", "洪山区", ["珞喻路{n}号{b}栋{r}室"], "4300"),
    ("陕西省", "西安市", "雁塔区", ["高新路{n}号{b}号楼{r}"], "7100"),
    ("山东省", "青岛市", "市南区", ["香港中路{n}号{b}号楼{r}室"], "2660"),
    ("福建省", "厦门市", "思明区", ["湖滨南路{n}号{b}楼{r}"], "3610"),
    ("重庆市", "重庆市", "渝中区", ["解放碑民权路{n}号{r}室"], "4000"),
    ("湖南省", "长沙市", "岳麓区", ["麓山南路{n}号{b}栋{r}"], "4100"),
]

CHANNEL_PREFIX = {
    Channel.TAOBAO: lambda r: str(r.randrange(10**17, 10**18)),
    Channel.JD: lambda r: str(r.randrange(10**11, 10**12)),
    Channel.PINDUODUO: lambda r: f"{r.randrange(100000, 999999)}-{r.randrange(10**14, 10**15)}",
    Channel.DOUYIN: lambda r: str(r.randrange(10**18, 10**19)),
    Channel.SHOPIFY: lambda r: f"#{r.randrange(1001, 99999)}",
}


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(["139", "138", "137", "136", "135", "150", "151", "152", "158", "186", "177", "188"])
    return prefix + f"{rng.randrange(10**8):08d}"


def shipping_address(rng: random.Random, recipient: str, phone: str) -> ShippingAddress:
    province, city, district, streets, postal = rng.choice(PLACES)
    street = rng.choice(streets).format(n=rng.randrange(1, 999), b=rng.randrange(1, 30), r=rng.randrange(101, 2999))
    return ShippingAddress(
        recipient=recipient,
        phone=phone,
        province=province,
        city=city,
        district=district,
        street=street,
        postal_code=postal + f"{rng.randrange(10, 99)}",
    )
