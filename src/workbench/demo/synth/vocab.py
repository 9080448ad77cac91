# ruff: noqa: E501 - reference tables read better one entry per line
"""Word lists and reference tables of the synthetic Pingdingshan (平顶山市).

Everything here is fixed data: counties, GB/T 4754-2017 classes with their risk and
naming, inspection items, departments. The generator reads it; nothing here draws
random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFECTURE = "平顶山市"
PREFECTURE_CODE = "410400"
PROVINCE = "河南省"

#: GB/T 2260 county-level divisions of Pingdingshan: code, name, share of entities,
#: short name used in penalty case numbers (新市监罚〔2024〕0012号), main roads.
COUNTIES: tuple[tuple[str, str, float, str, tuple[str, ...]], ...] = (
    (
        "410402",
        "新华区",
        0.150,
        "新",
        ("建设路", "中兴路", "曙光街", "光明路", "矿工路", "西市场街"),
    ),
    ("410403", "卫东区", 0.115, "卫", ("东环路", "建设路东段", "优越路", "五一路", "东安路")),
    ("410404", "石龙区", 0.020, "石", ("龙兴路", "龙河路", "人民路")),
    ("410411", "湛河区", 0.125, "湛", ("南环路", "开源路", "姚孟街", "中兴路南段", "湛河北路")),
    ("410421", "宝丰县", 0.080, "宝", ("东大街", "人民路", "应河路", "商酒务街")),
    ("410422", "叶县", 0.095, "叶", ("昆阳大道", "九龙路", "盐都大道", "文化路")),
    ("410423", "鲁山县", 0.090, "鲁", ("人民路", "向阳路", "花园路", "墨子大道")),
    ("410425", "郏县", 0.070, "郏", ("广阳路", "龙山大道", "东环路", "人民路")),
    ("410481", "舞钢市", 0.055, "舞", ("湖滨大道", "寺坡街", "朱兰街", "垭口路")),
    ("410482", "汝州市", 0.200, "汝", ("丹阳路", "广成路", "朝阳路", "望嵩路", "洗耳河路")),
)

#: Entity types: (code, share of new registrations, base logit shift, monthly exit hazard).
ENTITY_TYPES: tuple[tuple[str, float, float, float], ...] = (
    ("individual_business", 0.650, 0.00, 0.0040),
    ("company", 0.255, 0.10, 0.0016),
    ("branch", 0.030, -0.30, 0.0025),
    ("sole_proprietorship", 0.020, 0.15, 0.0030),
    ("partnership", 0.010, 0.35, 0.0020),
    ("foreign_invested", 0.003, -0.40, 0.0012),
    ("cooperative", 0.032, 0.05, 0.0020),
)

#: Type groups used for the industry mix: individual, corporate, cooperative.
TYPE_GROUP = {
    "individual_business": 0,
    "company": 1,
    "branch": 1,
    "sole_proprietorship": 0,
    "partnership": 1,
    "foreign_invested": 1,
    "cooperative": 2,
}

#: log-normal registered capital (万元) by type: (median, sigma).
CAPITAL = {
    "individual_business": (3.0, 1.0),
    "company": (100.0, 1.3),
    "branch": (0.0, 0.0),  # branches have no registered capital of their own
    "sole_proprietorship": (20.0, 1.0),
    "partnership": (500.0, 1.4),
    "foreign_invested": (800.0, 1.2),
    "cooperative": (60.0, 1.1),
}


@dataclass(frozen=True)
class Industry:
    """One GB/T 4754-2017 class (小类) as simulated."""

    code: str  # section letter + 4 digits
    name: str
    weights: tuple[float, float, float]  # share among individual / corporate / cooperative
    risk: float  # logit shift of the monthly violation probability
    consumer: float  # complaint-rate multiplier (consumer-facing trades)
    domain: str  # general / food / food_production / drug / device / equipment / product
    company_word: str  # 字号 + this + 有限公司
    shop_words: tuple[str, ...]  # individual business name endings
    licences: tuple[tuple[str, float], ...] = ()  # (license_type, share holding it)


_FOOD = (("food_business", 0.92),)
INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "A0141", "蔬菜种植", (0.010, 0.004, 0.30), -0.2, 0.1, "general", "农业科技", ("蔬菜种植园",)
    ),
    Industry("A0313", "猪的饲养", (0.010, 0.004, 0.25), 0.1, 0.1, "general", "养殖", ("养猪场",)),
    Industry("A0311", "牛的饲养", (0.004, 0.002, 0.12), 0.0, 0.1, "general", "牧业", ("养牛场",)),
    Industry(
        "A0511", "种子种苗培育活动", (0.002, 0.003, 0.15), -0.1, 0.1, "general", "种业", ("种苗站",)
    ),
    Industry("A0190", "其他农业", (0.004, 0.002, 0.18), 0.0, 0.1, "general", "农业发展", ("农场",)),
    Industry("B0610", "烟煤和无烟煤开采洗选", (0.0, 0.010, 0.0), 0.5, 0.1, "general", "煤业", ()),
    Industry(
        "B1019",
        "粘土及其他土砂石开采",
        (0.001, 0.006, 0.0),
        0.6,
        0.1,
        "general",
        "建材",
        ("砂石厂",),
    ),
    Industry(
        "C1312",
        "小麦加工",
        (0.004, 0.006, 0.0),
        0.2,
        0.4,
        "food_production",
        "面粉",
        ("面粉加工厂",),
        (("food_production", 0.85),),
    ),
    Industry(
        "C1391",
        "淀粉及淀粉制品制造",
        (0.003, 0.004, 0.0),
        0.4,
        0.4,
        "food_production",
        "食品",
        ("粉条加工坊",),
        (("food_production", 0.80),),
    ),
    Industry(
        "C1392",
        "豆制品制造",
        (0.004, 0.003, 0.0),
        0.4,
        0.5,
        "food_production",
        "豆制品",
        ("豆腐坊",),
        (("food_production", 0.75),),
    ),
    Industry(
        "C1411",
        "糕点、面包制造",
        (0.005, 0.003, 0.0),
        0.4,
        0.8,
        "food_production",
        "食品",
        ("糕点坊", "面包坊"),
        (("food_production", 0.80),),
    ),
    Industry(
        "C1431",
        "米、面制品制造",
        (0.006, 0.004, 0.0),
        0.4,
        0.6,
        "food_production",
        "食品",
        ("面条加工坊", "饺子皮加工店"),
        (("food_production", 0.80),),
    ),
    Industry(
        "C1512",
        "白酒制造",
        (0.001, 0.003, 0.0),
        0.3,
        0.5,
        "food_production",
        "酒业",
        ("酒坊",),
        (("food_production", 0.90),),
    ),
    Industry(
        "C1522",
        "瓶（罐）装饮用水制造",
        (0.0, 0.002, 0.0),
        0.3,
        0.5,
        "food_production",
        "饮品",
        (),
        (("food_production", 0.95),),
    ),
    Industry(
        "C1810", "机织服装制造", (0.004, 0.006, 0.0), 0.0, 0.2, "product", "服饰", ("服装加工厂",)
    ),
    Industry(
        "C2110", "木质家具制造", (0.003, 0.005, 0.0), 0.1, 0.6, "product", "家具", ("家具厂",)
    ),
    Industry(
        "C2641",
        "涂料制造",
        (0.0, 0.003, 0.0),
        0.4,
        0.2,
        "product",
        "涂料",
        (),
        (("industrial_product", 0.8), ("special_equipment_use", 0.4)),
    ),
    Industry(
        "C2710",
        "化学药品原料药制造",
        (0.0, 0.001, 0.0),
        0.2,
        0.2,
        "drug",
        "药业",
        (),
        (("drug_production", 0.95), ("special_equipment_use", 0.6)),
    ),
    Industry(
        "C2926",
        "塑料包装箱及容器制造",
        (0.002, 0.004, 0.0),
        0.1,
        0.2,
        "product",
        "塑业",
        ("塑料加工厂",),
    ),
    Industry(
        "C3011",
        "水泥制造",
        (0.0, 0.002, 0.0),
        0.4,
        0.1,
        "product",
        "水泥",
        (),
        (("industrial_product", 0.9), ("special_equipment_use", 0.8)),
    ),
    Industry(
        "C3021",
        "水泥制品制造",
        (0.002, 0.004, 0.0),
        0.3,
        0.1,
        "product",
        "建材",
        ("预制板厂",),
        (("special_equipment_use", 0.4),),
    ),
    Industry(
        "C3120",
        "炼钢",
        (0.0, 0.001, 0.0),
        0.2,
        0.1,
        "equipment",
        "钢铁",
        (),
        (("special_equipment_use", 0.95),),
    ),
    Industry(
        "C3130",
        "钢压延加工",
        (0.0, 0.003, 0.0),
        0.2,
        0.1,
        "equipment",
        "钢材",
        (),
        (("special_equipment_use", 0.85),),
    ),
    Industry(
        "C3311",
        "金属结构制造",
        (0.003, 0.006, 0.0),
        0.2,
        0.1,
        "equipment",
        "钢结构",
        ("铁艺加工部",),
        (("special_equipment_use", 0.5),),
    ),
    Industry(
        "C3670",
        "汽车零部件及配件制造",
        (0.0, 0.003, 0.0),
        0.1,
        0.2,
        "product",
        "汽车配件",
        (),
        (("special_equipment_use", 0.5),),
    ),
    Industry(
        "C3823",
        "配电开关控制设备制造",
        (0.0, 0.004, 0.0),
        0.0,
        0.2,
        "product",
        "电气",
        (),
        (("special_equipment_use", 0.5),),
    ),
    Industry(
        "D4411",
        "火力发电",
        (0.0, 0.001, 0.0),
        -0.3,
        0.2,
        "equipment",
        "电力",
        (),
        (("special_equipment_use", 1.0),),
    ),
    Industry(
        "D4511",
        "天然气生产和供应业",
        (0.0, 0.002, 0.0),
        0.0,
        1.0,
        "equipment",
        "燃气",
        (),
        (("special_equipment_use", 1.0),),
    ),
    Industry("E4710", "住宅房屋建筑", (0.0, 0.030, 0.0), 0.6, 0.3, "general", "建筑工程", ()),
    Industry("E4813", "市政道路工程建筑", (0.0, 0.012, 0.0), 0.4, 0.1, "general", "路桥工程", ()),
    Industry(
        "E5011",
        "公共建筑装饰和装修",
        (0.003, 0.015, 0.0),
        0.4,
        0.4,
        "general",
        "装饰工程",
        ("装饰部",),
    ),
    Industry(
        "E5012",
        "住宅装饰和装修",
        (0.010, 0.015, 0.0),
        0.5,
        1.4,
        "general",
        "装饰设计",
        ("装修队", "装饰部"),
    ),
    Industry(
        "F5121",
        "米、面制品及食用油批发",
        (0.010, 0.015, 0.0),
        0.3,
        0.6,
        "food",
        "粮油",
        ("粮油批发部",),
        _FOOD,
    ),
    Industry(
        "F5123",
        "果品、蔬菜批发",
        (0.015, 0.008, 0.02),
        0.2,
        0.5,
        "food",
        "农产品",
        ("果蔬批发部",),
        _FOOD,
    ),
    Industry(
        "F5127",
        "酒、饮料及茶叶批发",
        (0.008, 0.012, 0.0),
        0.3,
        0.6,
        "food",
        "商贸",
        ("烟酒批发部",),
        _FOOD,
    ),
    Industry(
        "F5161", "煤炭及制品批发", (0.001, 0.015, 0.0), 0.5, 0.1, "general", "能源", ("煤炭经销处",)
    ),
    Industry(
        "F5165", "建材批发", (0.015, 0.030, 0.0), 0.2, 0.5, "product", "建材", ("建材门市部",)
    ),
    Industry(
        "F5193", "互联网批发", (0.003, 0.010, 0.0), 0.4, 0.8, "product", "电子商务", ("网店",)
    ),
    Industry(
        "F5199", "其他未列明批发业", (0.010, 0.080, 0.0), 0.2, 0.3, "general", "商贸", ("商行",)
    ),
    Industry(
        "F5211", "百货零售", (0.030, 0.020, 0.0), 0.1, 1.0, "product", "百货", ("百货店", "日杂店")
    ),
    Industry(
        "F5212",
        "超级市场零售",
        (0.040, 0.015, 0.0),
        0.3,
        1.6,
        "food",
        "超市",
        ("超市", "生活超市"),
        (("food_business", 0.95), ("special_equipment_use", 0.15)),
    ),
    Industry(
        "F5213",
        "便利店零售",
        (0.050, 0.004, 0.0),
        0.2,
        1.3,
        "food",
        "便利",
        ("便利店", "副食店"),
        _FOOD,
    ),
    Industry(
        "F5221", "粮油零售", (0.025, 0.003, 0.0), 0.2, 0.9, "food", "粮油", ("粮油店",), _FOOD
    ),
    Industry(
        "F5223",
        "果品、蔬菜零售",
        (0.050, 0.002, 0.01),
        0.0,
        0.8,
        "food",
        "果蔬",
        ("水果店", "蔬菜店"),
        (("food_business", 0.50),),
    ),
    Industry(
        "F5224",
        "肉、禽、蛋、奶及水产品零售",
        (0.040, 0.002, 0.0),
        0.5,
        1.1,
        "food",
        "生鲜",
        ("鲜肉店", "水产店", "禽蛋店"),
        _FOOD,
    ),
    Industry(
        "F5226",
        "酒、饮料及茶叶零售",
        (0.030, 0.004, 0.0),
        0.4,
        1.0,
        "food",
        "酒业",
        ("烟酒店", "茶叶店"),
        _FOOD,
    ),
    Industry(
        "F5232", "服装零售", (0.060, 0.006, 0.0), 0.0, 1.0, "product", "服饰", ("服装店", "时装店")
    ),
    Industry(
        "F5234",
        "化妆品及卫生用品零售",
        (0.015, 0.004, 0.0),
        0.4,
        1.3,
        "product",
        "化妆品",
        ("化妆品店",),
    ),
    Industry(
        "F5251",
        "西药零售",
        (0.012, 0.010, 0.0),
        0.3,
        1.2,
        "drug",
        "医药",
        ("大药房", "药店"),
        (("drug_retail", 0.97), ("medical_device_business", 0.5)),
    ),
    Industry(
        "F5252",
        "中药零售",
        (0.004, 0.002, 0.0),
        0.3,
        1.0,
        "drug",
        "中药",
        ("中药店",),
        (("drug_retail", 0.95),),
    ),
    Industry(
        "F5254",
        "医疗用品及器材零售",
        (0.004, 0.004, 0.0),
        0.5,
        1.2,
        "device",
        "医疗器械",
        ("医疗器械店",),
        (("medical_device_business", 0.90),),
    ),
    Industry("F5261", "汽车新车零售", (0.0, 0.006, 0.0), 0.3, 1.5, "product", "汽车销售", ()),
    Industry(
        "F5265",
        "机动车燃油零售",
        (0.002, 0.004, 0.0),
        0.4,
        1.0,
        "product",
        "石化",
        ("加油站",),
        (("special_equipment_use", 0.7),),
    ),
    Industry(
        "F5274",
        "通信设备零售",
        (0.025, 0.005, 0.0),
        0.3,
        1.3,
        "product",
        "通讯",
        ("手机店", "通讯器材店"),
    ),
    Industry(
        "F5281",
        "五金零售",
        (0.035, 0.004, 0.0),
        0.0,
        0.6,
        "product",
        "五金",
        ("五金店", "五金交电门市"),
    ),
    Industry(
        "F5292",
        "互联网零售",
        (0.020, 0.015, 0.0),
        0.6,
        1.8,
        "product",
        "电子商务",
        ("网店", "电商工作室"),
    ),
    Industry(
        "F5299",
        "其他未列明零售业",
        (0.050, 0.008, 0.0),
        0.1,
        0.8,
        "product",
        "商贸",
        ("商店", "门市部"),
    ),
    Industry(
        "G5431", "普通货物道路运输", (0.020, 0.020, 0.0), 0.2, 0.3, "general", "物流", ("货运部",)
    ),
    Industry(
        "G6020", "快递服务", (0.004, 0.004, 0.0), 0.1, 1.2, "general", "快递", ("快递服务站",)
    ),
    Industry(
        "H6110",
        "旅游饭店",
        (0.0, 0.003, 0.0),
        0.3,
        1.5,
        "food",
        "酒店管理",
        (),
        (("food_business", 0.9), ("special_equipment_use", 0.8)),
    ),
    Industry(
        "H6121",
        "经济型连锁酒店",
        (0.002, 0.004, 0.0),
        0.3,
        1.4,
        "general",
        "酒店",
        ("宾馆",),
        (("special_equipment_use", 0.5),),
    ),
    Industry(
        "H6129",
        "其他一般旅馆",
        (0.015, 0.002, 0.0),
        0.4,
        1.2,
        "general",
        "宾馆",
        ("旅馆", "招待所", "宾馆"),
    ),
    Industry(
        "H6210",
        "正餐服务",
        (0.070, 0.020, 0.0),
        0.6,
        1.8,
        "food",
        "餐饮管理",
        ("饭店", "酒家", "烩面馆", "菜馆", "火锅店"),
        _FOOD,
    ),
    Industry(
        "H6220",
        "快餐服务",
        (0.050, 0.008, 0.0),
        0.6,
        1.6,
        "food",
        "餐饮",
        ("快餐店", "面馆", "饺子馆"),
        _FOOD,
    ),
    Industry(
        "H6231", "茶馆服务", (0.008, 0.002, 0.0), 0.2, 1.0, "food", "茶业", ("茶社", "茶馆"), _FOOD
    ),
    Industry(
        "H6291",
        "小吃服务",
        (0.080, 0.002, 0.0),
        0.7,
        1.5,
        "food",
        "小吃",
        ("小吃店", "胡辣汤馆", "凉皮店", "烧烤店", "早餐店"),
        (("food_business", 0.85),),
    ),
    Industry(
        "H6241",
        "餐饮配送服务",
        (0.005, 0.004, 0.0),
        0.6,
        1.2,
        "food",
        "餐饮配送",
        ("配餐中心",),
        _FOOD,
    ),
    Industry("I6513", "应用软件开发", (0.001, 0.020, 0.0), -0.3, 0.3, "general", "网络科技", ()),
    Industry("K7010", "房地产开发经营", (0.0, 0.012, 0.0), 0.6, 1.2, "general", "置业", ()),
    Industry(
        "K7020",
        "物业管理",
        (0.0, 0.010, 0.0),
        0.3,
        1.5,
        "general",
        "物业服务",
        (),
        (("special_equipment_use", 0.6),),
    ),
    Industry(
        "K7040",
        "房地产中介服务",
        (0.004, 0.008, 0.0),
        0.5,
        1.4,
        "general",
        "房产经纪",
        ("房产信息部",),
    ),
    Industry(
        "L7111", "汽车租赁", (0.003, 0.006, 0.0), 0.3, 1.0, "general", "汽车租赁", ("租车行",)
    ),
    Industry("L7212", "投资与资产管理", (0.0, 0.020, 0.0), 0.9, 0.6, "general", "投资管理", ()),
    Industry(
        "L7251",
        "互联网广告服务",
        (0.003, 0.010, 0.0),
        0.6,
        0.8,
        "general",
        "文化传媒",
        ("广告工作室",),
    ),
    Industry("L7263", "劳务派遣服务", (0.0, 0.010, 0.0), 0.4, 0.6, "general", "人力资源", ()),
    Industry(
        "L7299",
        "其他未列明商务服务业",
        (0.010, 0.050, 0.0),
        0.3,
        0.5,
        "general",
        "商务服务",
        ("服务部",),
    ),
    Industry("M7452", "检测服务", (0.0, 0.004, 0.0), 0.0, 0.2, "general", "检测技术", ()),
    Industry("M7483", "工程设计活动", (0.0, 0.008, 0.0), -0.1, 0.1, "general", "工程设计", ()),
    Industry(
        "N7820",
        "环境卫生管理",
        (0.002, 0.005, 0.0),
        0.0,
        0.2,
        "general",
        "环境工程",
        ("保洁服务部",),
    ),
    Industry(
        "O8010", "家庭服务", (0.010, 0.004, 0.0), 0.2, 1.2, "general", "家政服务", ("家政服务部",)
    ),
    Industry("O8030", "洗染服务", (0.012, 0.001, 0.0), 0.0, 1.0, "general", "洗涤", ("干洗店",)),
    Industry(
        "O8040",
        "理发及美容服务",
        (0.070, 0.006, 0.0),
        0.4,
        1.5,
        "product",
        "美容美发",
        ("理发店", "美发店", "美容院"),
    ),
    Industry(
        "O8053",
        "养生保健服务",
        (0.015, 0.006, 0.0),
        0.8,
        1.6,
        "product",
        "健康管理",
        ("养生馆", "足疗店"),
    ),
    Industry("O8070", "婚姻服务", (0.005, 0.002, 0.0), 0.3, 1.2, "general", "婚庆", ("婚庆店",)),
    Industry(
        "O8111",
        "汽车修理与维护",
        (0.035, 0.008, 0.0),
        0.3,
        1.3,
        "product",
        "汽车服务",
        ("汽修店", "汽车美容店", "轮胎店"),
        (("special_equipment_use", 0.1),),
    ),
    Industry(
        "O8131",
        "家用电子产品修理",
        (0.015, 0.001, 0.0),
        0.1,
        0.9,
        "general",
        "电器维修",
        ("家电维修部",),
    ),
    Industry("P8391", "职业技能培训", (0.0, 0.006, 0.0), 0.4, 1.2, "general", "职业培训", ()),
    Industry(
        "P8393",
        "文化艺术培训",
        (0.004, 0.006, 0.0),
        0.5,
        1.4,
        "general",
        "文化艺术",
        ("艺术培训部",),
    ),
    Industry(
        "Q8425",
        "门诊部（所）",
        (0.006, 0.003, 0.0),
        0.3,
        1.3,
        "device",
        "医疗管理",
        ("诊所",),
        (("medical_device_business", 0.3),),
    ),
    Industry(
        "R8930", "健身休闲活动", (0.006, 0.004, 0.0), 0.5, 1.5, "general", "健身", ("健身房",)
    ),
    Industry("R9011", "歌舞厅娱乐活动", (0.003, 0.003, 0.0), 0.5, 1.2, "general", "娱乐", ("KTV",)),
    Industry("R9013", "网吧活动", (0.006, 0.002, 0.0), 0.4, 0.9, "general", "网络会所", ("网吧",)),
)

#: Industries whose inspections carry a specific item and violation vocabulary.
DOMAIN_ITEMS: dict[str, tuple[str, ...]] = {
    "general": ("价格行为检查", "广告发布情况检查"),
    "food": ("食品经营许可事项检查", "食品经营者落实食品安全主体责任情况检查"),
    "food_production": ("食品生产许可事项检查", "食品生产企业监督检查"),
    "drug": ("药品零售企业经营行为检查",),
    "device": ("医疗器械经营企业监督检查",),
    "equipment": ("特种设备使用情况检查",),
    "product": ("产品质量监督检查", "计量器具使用情况检查"),
}
DISCLOSURE_ITEM = "企业公示信息情况检查"
DISCLOSURE_ITEM_INDIVIDUAL = "个体工商户年报信息检查"
COMPLAINT_ITEM = "投诉举报核查"
SPECIAL_EQUIPMENT_ITEM = "特种设备使用情况检查"
METHODS = ("实地核查", "书面检查", "网络监测")

#: Violation types (违法行为类型) per domain: the vocabulary of penalty decisions.
VIOLATION_TYPES: dict[str, tuple[str, ...]] = {
    "general": (
        "价格违法行为",
        "虚假宣传",
        "发布违法广告",
        "无照经营",
        "合同违法行为",
        "侵犯注册商标专用权",
    ),
    "food": (
        "经营超过保质期的食品",
        "未取得食品经营许可从事食品经营活动",
        "经营不符合食品安全标准的食品",
        "未按规定查验进货凭证",
        "从业人员未取得健康证明",
        "价格违法行为",
    ),
    "food_production": (
        "生产不符合食品安全标准的食品",
        "未取得食品生产许可从事食品生产活动",
        "标签不符合规定",
        "超范围使用食品添加剂",
    ),
    "drug": ("未凭处方销售处方药", "违反药品经营质量管理规范", "销售劣药", "执业药师不在岗"),
    "device": ("经营未经注册的医疗器械", "未按规定建立进货查验记录"),
    "equipment": (
        "使用未经定期检验的特种设备",
        "特种设备作业人员未持证上岗",
        "未办理特种设备使用登记",
    ),
    "product": (
        "销售不合格产品",
        "以假充真、以次充好",
        "使用不合格计量器具",
        "虚假宣传",
        "侵犯注册商标专用权",
    ),
}

COMPLAINT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "general": ("合同纠纷", "服务质量", "价格收费", "虚假宣传"),
    "food": ("食品安全", "价格收费", "服务质量"),
    "food_production": ("食品安全", "产品质量"),
    "drug": ("药品质量", "价格收费"),
    "device": ("医疗器械质量", "虚假宣传"),
    "equipment": ("特种设备安全", "服务质量"),
    "product": ("产品质量", "售后服务", "价格收费", "计量"),
}

CITY_BUREAU = "平顶山市市场监督管理局"
CITY_DEPARTMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("综合行政执法支队", ("general", "product")),
    ("食品安全监管科", ("food", "food_production")),
    ("药品化妆品监管科", ("drug", "device")),
    ("特种设备安全监察科", ("equipment",)),
    ("信用监管科", ("general",)),
    ("价格监督检查和反不正当竞争科", ("general",)),
    ("产品质量安全监督管理科", ("product",)),
)

CONFLICT_REASONS = ("近亲属关系", "曾在该企业任职", "持有该企业股份", "其他利害关系")

#: Characters for 字号 (trade names).
TRADE_CHARS = (
    "鑫源华达盛兴宏恒昌泰祥福瑞德信诚佳和顺丰隆金鼎利通远博创新宇永安康明辉豪凯嘉美益荣旺富晟森"
    "锦尚悦卓越汇聚合众天润海峰川宁平乐正方圆坤乾百万千优品惠家宜欣怡雅馨逸轩宸泽霖然辰星月阳光"
    "晨曦蓝青绿云山水林木石玉珍宝银龙凤鹰鹏骏豫中原亿联旭东南北豪腾飞跃志广宏浩伟成开运吉"
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN_CHARS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英红建国建华志强海燕玉兰春梅国强文华德明永刚晓东晓燕丹丹鹏飞亚楠雪梅淑珍志刚凤英振华利民向阳卫东新民"
ADDRESS_TAILS = ("号", "号院", "号楼下", "号商铺", "号附近")
