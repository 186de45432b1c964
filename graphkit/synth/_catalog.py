"""Static reference data for the generator: regions, names, diagnoses, drugs and services.

Everything here is plain data (every string GBK-encodable); the generator indexes into it with
numpy arrays. Drug names follow the 2022 重点药品耗材 list of the 四川 plan (seeds/000, 附件1).
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------------------------
# Geography: 成都市 districts and counties (6-digit 区划 codes). rural=True -> villages, 卫生室.
# --------------------------------------------------------------------------------------------

REGIONS = [
    ("510104", "锦江区", False), ("510105", "青羊区", False), ("510106", "金牛区", False),
    ("510107", "武侯区", False), ("510108", "成华区", False), ("510121", "金堂县", True),
    ("510112", "龙泉驿区", False), ("510129", "大邑县", True), ("510114", "新都区", False),
    ("510131", "蒲江县", True), ("510115", "温江区", False), ("510182", "彭州市", True),
    ("510116", "双流区", False), ("510183", "邛崃市", True), ("510117", "郫都区", False),
    ("510184", "崇州市", True), ("510113", "青白江区", False), ("510185", "简阳市", True),
    ("510118", "新津区", False), ("510181", "都江堰市", True),
]

TOWN_STEMS = list("金石清平安和兴龙凤福永新太白云桥河山泉华光明宝德双江柳青桂竹梅花长乐丰顺")
TOWN_SUFFIX_RURAL = ["镇", "乡", "镇"]
TOWN_SUFFIX_URBAN = ["街道"]
VILLAGE_STEMS = list("民胜利团结红星光明三合五星双河长林新桥五一和平联合向阳友谊高峰前进")
STREET_STEMS = ["人民", "建设", "解放", "文化", "春熙", "玉林", "蜀都", "锦绣", "天府", "府河",
                "东风", "致民", "龙腾", "光华", "清江", "马家", "沙湾", "营门", "双林", "水碾"]
COMPOUND_SUFFIX = ["小区", "花园", "苑", "家园", "新村", "公寓"]

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于"
                "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹")
SURNAME_WEIGHTS = np.array([7.2, 7.0, 6.7, 5.4, 4.5, 3.1, 2.1, 2.0, 1.9, 1.9] + [1.0] * 20
                           + [0.6] * (len(SURNAMES) - 30))
GIVEN_MALE = list("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文兵")
GIVEN_FEMALE = list("芳娜敏静丽艳娟霞秀燕玲桂英华梅琳丹萍红玉兰凤洁琴云莉倩婷雪慧颖佳欣怡晶")

# --------------------------------------------------------------------------------------------
# Diagnoses: (ICD-10, sex "M"/"F"/"" , age_min, age_max, weight)
# --------------------------------------------------------------------------------------------

ACUTE_OUTPATIENT = [
    ("J06.900", "", 0, 95, 14.0), ("J20.900", "", 0, 95, 4.0), ("J02.900", "", 3, 95, 4.0),
    ("A09.900", "", 0, 95, 2.5), ("K29.700", "", 16, 95, 4.0), ("K21.000", "", 25, 95, 1.5),
    ("M54.500", "", 25, 95, 3.5), ("M17.900", "", 50, 95, 2.5), ("L30.900", "", 0, 95, 2.0),
    ("H10.900", "", 0, 95, 1.2), ("K02.900", "", 4, 95, 1.5), ("R51.x00", "", 14, 95, 1.0),
    ("S93.400", "", 10, 65, 0.8), ("N39.000", "F", 16, 95, 1.2), ("N76.000", "F", 16, 70, 1.0),
    ("N40.x00", "M", 50, 95, 1.5), ("E78.500", "", 35, 95, 1.5), ("F51.000", "", 30, 95, 0.8),
    ("Z34.900", "F", 18, 45, 0.8), ("H52.100", "", 6, 40, 0.8), ("J45.900", "", 3, 95, 0.6),
    ("R05.x00", "", 0, 95, 1.2), ("B34.900", "", 0, 14, 2.0), ("K59.000", "", 40, 95, 0.6),
]

#: chronic conditions: (ICD-10, sex, age_min, age_max, prevalence at/after age_min+20, drug group)
CHRONIC = [
    ("I10.x00", "", 35, 95, 0.30, "htn"),
    ("E11.900", "", 40, 95, 0.12, "dm"),
    ("I25.100", "", 50, 95, 0.07, "chd"),
    ("I69.300", "", 55, 95, 0.03, "stroke"),
    ("J44.900", "", 50, 95, 0.04, "copd"),
    ("M81.000", "F", 55, 95, 0.05, "osteo"),
    ("E03.900", "F", 30, 95, 0.02, "thyroid"),
    ("K74.600", "", 40, 95, 0.005, "liver"),
    ("G20.x00", "", 60, 95, 0.01, "neuro"),
    ("F20.900", "", 20, 80, 0.005, "psych"),
    ("C34.900", "", 50, 95, 0.003, "ca_lung"),
    ("C50.900", "F", 35, 95, 0.003, "ca_breast"),
]

INPATIENT = [
    ("J18.900", "", 0, 95, 6.0, 8), ("I63.900", "", 50, 95, 4.0, 12), ("I21.900", "", 50, 95, 1.2, 9),
    ("I50.900", "", 60, 95, 2.0, 10), ("K80.100", "", 30, 95, 1.5, 7), ("K35.800", "", 5, 60, 1.0, 6),
    ("S72.000", "", 65, 95, 1.0, 14), ("S82.200", "", 15, 70, 0.8, 12), ("O80.000", "F", 18, 45, 2.0, 3),
    ("O82.000", "F", 18, 45, 1.5, 5), ("P07.300", "", 0, 0, 0.8, 10), ("H25.900", "", 55, 95, 1.2, 3),
    ("M17.100", "", 55, 95, 0.8, 10), ("J44.100", "", 55, 95, 2.0, 10), ("E11.900", "", 40, 95, 1.0, 8),
    ("N20.000", "", 25, 70, 0.8, 5), ("K92.200", "", 40, 95, 0.6, 8), ("A09.900", "", 0, 10, 1.0, 4),
    ("M51.200", "", 30, 70, 1.0, 9), ("I10.x00", "", 45, 95, 1.2, 8), ("M54.500", "", 30, 95, 0.8, 9),
]

# Soft diagnoses used for recruited stays (and by the rehabilitation look-alike)
SOFT_INPATIENT = ["M54.500", "I63.900", "J44.100", "M51.200", "I10.x00", "K29.700", "M17.100",
                  "E11.900", "I69.300"]
IMPOSSIBLE_FOR = {  # codes that cannot belong to a holder of that sex / age
    "M": ["O80.000", "N76.000", "Z34.900", "O82.000"],
    "F": ["N40.x00"],
    "adult": ["P07.300"],
    "child": ["N40.x00", "H25.900", "I63.900", "M17.900"],
}

# --------------------------------------------------------------------------------------------
# Drugs: (name, ATC-ish stem, price per pack, unit, groups, key)
# key=True marks the high-value drugs of the seeds' key lists that diversion chains target.
# --------------------------------------------------------------------------------------------

DRUGS = [
    ("人血白蛋白", "B05AA", 368.00, "瓶", "liver inpatient", True),
    ("甲磺酸奥希替尼片", "L01EB", 4968.00, "盒", "ca_lung", True),
    ("甘精胰岛素注射液", "A10AE", 171.80, "支", "dm", True),
    ("司美格鲁肽注射液", "A10BJ", 412.50, "支", "dm", True),
    ("阿托伐他汀钙片", "C10AA", 28.73, "盒", "chd stroke htn", True),
    ("硫酸氢氯吡格雷片", "B01AC", 47.82, "盒", "chd stroke", True),
    ("安宫牛黄丸", "ZA15", 468.00, "丸", "stroke tonic", True),
    ("达格列净片", "A10BK", 118.40, "盒", "dm", True),
    ("曲妥珠单抗注射液", "L01FD", 1596.00, "瓶", "ca_breast", True),
    ("贝伐珠单抗注射液", "L01FG", 1289.00, "瓶", "ca_lung", True),
    ("门冬胰岛素30注射液", "A10AD", 63.90, "支", "dm", False),
    ("盐酸二甲双胍片", "A10BA", 13.56, "盒", "dm", False),
    ("苯磺酸氨氯地平片", "C08CA", 16.35, "盒", "htn", False),
    ("硝苯地平控释片", "C08CA", 32.48, "盒", "htn", False),
    ("苯磺酸左氨氯地平片", "C08CA", 21.70, "盒", "htn", False),
    ("琥珀酸美托洛尔缓释片", "C07AB", 38.26, "盒", "htn chd", False),
    ("厄贝沙坦片", "C09CA", 24.15, "盒", "htn", False),
    ("瑞舒伐他汀钙片", "C10AA", 31.42, "盒", "chd", False),
    ("阿司匹林肠溶片", "B01AC", 15.90, "盒", "chd stroke", False),
    ("复方丹参滴丸", "ZA12", 26.80, "盒", "chd", False),
    ("脑心通胶囊", "ZA12", 52.60, "盒", "stroke", False),
    ("麝香保心丸", "ZA12", 48.90, "盒", "chd", False),
    ("速效救心丸", "ZA12", 35.20, "盒", "chd", False),
    ("参松养心胶囊", "ZA12", 44.30, "盒", "chd", False),
    ("通心络胶囊", "ZA12", 61.70, "盒", "stroke", False),
    ("连花清瘟胶囊", "ZA03", 26.90, "盒", "uri", False),
    ("蓝芩口服液", "ZA03", 31.50, "盒", "uri", False),
    ("蒲地蓝消炎口服液", "ZA03", 38.60, "盒", "uri", False),
    ("强力枇杷露", "ZA05", 23.80, "瓶", "uri", False),
    ("苏黄止咳胶囊", "ZA05", 42.10, "盒", "uri copd", False),
    ("肺力咳合剂", "ZA05", 27.40, "瓶", "uri", False),
    ("阿莫西林胶囊", "J01CA", 12.60, "盒", "uri", False),
    ("头孢呋辛酯片", "J01DC", 24.90, "盒", "uri", False),
    ("奥美拉唑肠溶胶囊", "A02BC", 18.75, "盒", "gi", False),
    ("蒙脱石散", "A07BC", 16.20, "盒", "gi", False),
    ("塞来昔布胶囊", "M01AH", 36.50, "盒", "pain", False),
    ("双氯芬酸钠缓释片", "M01AB", 14.30, "盒", "pain", False),
    ("丁苯酞氯化钠注射液", "N07XX", 186.00, "瓶", "inpatient", False),
    ("注射用头孢哌酮钠舒巴坦钠", "J01DD", 58.40, "支", "inpatient", False),
    ("注射用哌拉西林钠他唑巴坦钠", "J01CR", 46.70, "支", "inpatient", False),
    ("注射用美罗培南", "J01DH", 96.30, "支", "inpatient", False),
    ("注射用血塞通", "ZA12", 27.60, "支", "inpatient", False),
    ("丹红注射液", "ZA12", 39.80, "支", "inpatient", False),
    ("舒血宁注射液", "ZA12", 16.90, "支", "inpatient", False),
    ("法莫替丁注射液", "A02BA", 9.80, "支", "inpatient gi", False),
    ("尿毒清颗粒", "ZA10", 56.40, "盒", "ckd", False),
    ("百令胶囊", "ZA09", 58.80, "盒", "ckd", False),
    ("金水宝胶囊", "ZA09", 49.60, "盒", "ckd copd", False),
    ("重组人促红素注射液", "B03XA", 88.20, "支", "ckd", False),
    ("阿仑膦酸钠片", "M05BA", 42.90, "盒", "osteo", False),
    ("碳酸钙D3片", "A12AX", 29.70, "盒", "osteo", False),
    ("左甲状腺素钠片", "H03AA", 25.30, "盒", "thyroid", False),
    ("多巴丝肼片", "N04BA", 58.10, "盒", "neuro", False),
    ("利培酮片", "N05AX", 45.60, "盒", "psych", False),
    ("非那雄胺片", "G04CB", 48.20, "盒", "uro", False),
    ("坦洛新缓释胶囊", "G04CA", 52.70, "盒", "uro", False),
    ("六味地黄丸", "ZA09", 19.80, "盒", "tonic", False),
    ("复方阿胶浆", "ZA09", 86.40, "盒", "tonic", False),
    ("阿胶", "ZB99", 268.00, "盒", "tonic", False),
    ("三七粉", "ZB99", 138.00, "瓶", "tonic", False),
    ("西洋参", "ZB99", 156.00, "盒", "tonic", False),
    ("他克莫司胶囊", "L04AD", 236.00, "盒", "ckd", False),
    ("沙美特罗替卡松吸入粉雾剂", "R03AK", 198.60, "支", "copd", False),
    ("布地奈德混悬液", "R03BA", 62.40, "盒", "copd uri", False),
    ("小儿氨酚黄那敏颗粒", "N02BE", 15.80, "盒", "child", False),
    ("玻璃酸钠滴眼液", "S01XA", 32.60, "支", "eye", False),
    ("氧氟沙星滴眼液", "S01AE", 11.40, "支", "eye", False),
    ("炉甘石洗剂", "D04AX", 8.60, "瓶", "derm", False),
    ("地奈德乳膏", "D07AB", 22.30, "支", "derm", False),
    ("甲硝唑栓", "G01AF", 12.70, "盒", "gyn", False),
    ("复方氨基酸注射液", "B05BA", 24.80, "瓶", "inpatient", False),
    ("右佐匹克隆片", "N05CF", 39.50, "盒", "sleep", False),
]

#: diagnosis code -> drug groups that treat it (first group is preferred)
DIAG_GROUPS = {
    "J06.900": "uri child", "J20.900": "uri", "J02.900": "uri", "A09.900": "gi child",
    "K29.700": "gi", "K21.000": "gi", "M54.500": "pain", "M17.900": "pain", "L30.900": "derm",
    "H10.900": "eye", "K02.900": "pain", "R51.x00": "pain", "S93.400": "pain", "N39.000": "uri",
    "N76.000": "gyn", "N40.x00": "uro", "E78.500": "chd", "F51.000": "sleep", "Z34.900": "tonic",
    "H52.100": "eye", "J45.900": "copd", "R05.x00": "uri", "B34.900": "child uri", "K59.000": "gi",
    "I10.x00": "htn", "E11.900": "dm", "I25.100": "chd", "I69.300": "stroke", "J44.900": "copd",
    "M81.000": "osteo", "E03.900": "thyroid", "K74.600": "liver", "G20.x00": "neuro",
    "F20.900": "psych", "C34.900": "ca_lung", "C50.900": "ca_breast", "N18.500": "ckd",
    "J18.900": "inpatient uri", "I63.900": "inpatient stroke", "I21.900": "inpatient chd",
    "I50.900": "inpatient chd", "K80.100": "inpatient gi", "K35.800": "inpatient",
    "S72.000": "inpatient pain", "S82.200": "inpatient pain", "O80.000": "inpatient",
    "O82.000": "inpatient", "P07.300": "inpatient child", "H25.900": "eye", "M17.100": "pain inpatient",
    "J44.100": "inpatient copd", "N20.000": "inpatient", "K92.200": "inpatient gi",
    "M51.200": "pain inpatient", "A05.900": "inpatient gi", "T58.x00": "inpatient",
    "Z51.100": "ca_lung inpatient", "Z50.800": "stroke pain", "Z38.000": "child",
}

# Services: (name, code, price, per) per = "visit" | "day" | "once"
SERVICES = [
    ("普通门诊诊查费", "110200001", 10.00, "visit"),      # 0
    ("副主任医师诊查费", "110200002", 25.00, "visit"),    # 1
    ("床位费", "110900001", 45.00, "day"),               # 2
    ("二级护理", "120100003", 28.00, "day"),             # 3
    ("静脉输液", "120400001", 12.50, "once"),            # 4
    ("血常规", "250101015", 21.00, "once"),              # 5
    ("胸部CT平扫", "210300001", 228.00, "once"),         # 6
    ("血液透析", "311000006", 415.00, "once"),           # 7
    ("白内障超声乳化摘除术+人工晶体植入术", "330803012", 5860.00, "once"),  # 8
    ("偏瘫肢体综合训练", "340200008", 68.00, "day"),      # 9
    ("肿瘤化学治疗", "311400003", 186.00, "once"),        # 10
    ("剖宫产术", "331204001", 2380.00, "once"),          # 11
    ("单胎顺产接生", "331203001", 1150.00, "once"),      # 12
    ("新生儿护理", "120100014", 32.00, "day"),            # 13
    ("中医针刺", "430000001", 38.00, "once"),            # 14
    ("血液透析器", "C1404", 168.00, "once"),             # 15 consumable (耗材)
]
SV = {name: i for i, (name, *_rest) in enumerate(SERVICES)}


def drug_codes() -> list[str]:
    """Stable 医保目录编码-like codes for :data:`DRUGS` (X... western, Z... Chinese patent)."""
    out = []
    for i, (_name, stem, *_r) in enumerate(DRUGS):
        serial = (i * 7919 + 104729) % 1000000
        if stem.startswith("Z"):
            out.append(f"Z{stem[1:]}{i:03d}0{serial:06d}0101")
        else:
            out.append(f"X{stem}{i:03d}B00201{serial:06d}")
    return out


def check_gbk() -> None:
    """Raise UnicodeEncodeError when a catalogue string is not GBK-encodable (used by tests)."""
    texts: list[str] = []
    texts += [n for _c, n, _r in REGIONS] + TOWN_STEMS + VILLAGE_STEMS + STREET_STEMS
    texts += COMPOUND_SUFFIX + TOWN_SUFFIX_RURAL + TOWN_SUFFIX_URBAN + SURNAMES
    texts += GIVEN_MALE + GIVEN_FEMALE + [d[0] + d[3] for d in DRUGS] + [s[0] for s in SERVICES]
    for t in texts:
        t.encode("gbk")
