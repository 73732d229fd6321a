"""Build frames/*.csv from the sourced inputs listed below (surveylib frame data).

Run:  python frames/build_frames.py   (from the repo root or from frames/)
Every number that enters a stratum total or a margin is written to
frame_sources.csv with a status (sourced / derived / estimate) and is
referred to by its row number R<n> (n = 1-based data row, header excluded).

Configurable choices (edit here, then re-run):
  ASTANA_STRATUM   1 = Northern (default, see oblast_map.csv), 5 = Central, None = excluded

Alternative readings of Astana's stratum (used by `surveylib reconstruct --draws`):
  python frames/build_frames.py --astana central    writes only strata_frame_astana_central.csv
  python frames/build_frames.py --astana excluded   writes only strata_frame_astana_excluded.csv
"""
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ASTANA_STRATUM = 1
ALTERNATIVE = None  # name of an alternative Astana reading: only its strata frame is written
if "--astana" in sys.argv:
    ALTERNATIVE = sys.argv[sys.argv.index("--astana") + 1]
    ASTANA_STRATUM = {"northern": 1, "central": 5, "excluded": None}[ALTERNATIVE]
STRATA = {1: "Northern", 2: "Eastern", 3: "Southern", 4: "Western", 5: "Central", 6: "Almaty city"}

# ---------------------------------------------------------------- sources
SRC_SERIES = ("https://stat.gov.kz/api/iblock/element/6584/file/ru/ (Bureau of National Statistics xlsx) "
              "as mirrored in github.com/open-data-kazakhstan/population-projections-by-regions data/kazpop.csv")
SRC_0424 = "https://vcentre.kz/2024/05/03/nazvana-chislennost-naselenija-kazahstana-na-1-aprelja (citing stat.gov.kz)"
SRC_159623 = "https://stat.gov.kz/en/industries/social-statistics/demography/publications/159623/"
SRC_CRC = "http://hozir.org/united-nations-crc-v2/hozir.org/united-nations-crc-v2.html?page=4 (Kazakhstan periodic report to the UN CRC)"
SRC_CIA09 = "http://piglix.com/piglix/Demographics_of_Kazakhstan (Wikipedia copy, infobox '2009 est.')"
SRC_SARBAZ = "https://sarbaz.kz/v-centre-vnimaniya/1390-deti-molodezh-stariki-kogo-bolshe-v-kazakhstane (citing Bureau of National Statistics, Nov 2023)"
SRC_WIKI23 = "http://www.wikimili.com/en/Demographics_of_Kazakhstan (infobox '2023 Est.')"

rows = []  # frame_sources rows (new ones); each dict with the 8 columns


def add(item, area, year, value, unit, status, source, note):
    rows.append(dict(item=item, area=area, year=year, value=value, unit=unit, status=status,
                     source=source, quote_or_note=note))
    return len(rows)  # provisional index; offset by the copied seed rows later


# oblast / city total population, start of year (series)
SERIES = {
    2007: {"Akmola": 748559, "Aktobe": 695454, "Almaty oblast": 1620696, "Atyrau": 480687,
           "West Kazakhstan": 612479, "Zhambyl": 1009210, "Karaganda": 1339368, "Kostanay": 900333,
           "Kyzylorda": 625070, "Mangystau": 390531, "Pavlodar": 744860, "North Kazakhstan": 660950,
           "South Kazakhstan": 2282474, "East Kazakhstan": 1424513, "Astana city": 574448,
           "Almaty city": 1287246},
    2012: {"Akmola": 731399, "Aktobe": 786390, "Almaty oblast": 1908785, "Atyrau": 542959,
           "West Kazakhstan": 612581, "Zhambyl": 1055822, "Karaganda": 1357969, "Kostanay": 879635,
           "Kyzylorda": 712899, "Mangystau": 545789, "Pavlodar": 747167, "North Kazakhstan": 583772,
           "South Kazakhstan": 2621472, "East Kazakhstan": 1395060, "Astana city": 742868,
           "Almaty city": 1449366},
    2023: {"Abai": 610205, "Akmola": 788023, "Aktobe": 928161, "Almaty oblast": 1505968, "Atyrau": 693085,
           "West Kazakhstan": 688129, "Zhambyl": 1218170, "Zhetisu": 698729, "Karaganda": 1134854,
           "Kostanay": 832237, "Kyzylorda": 833676, "Mangystau": 767107, "Pavlodar": 754949,
           "North Kazakhstan": 534108, "Turkistan": 2119320, "Ulytau": 221426, "East Kazakhstan": 730236,
           "Astana city": 1354507, "Almaty city": 2161797, "Shymkent city": 1192120},
}
SERIES_NAT = {2007: 15396878, 2012: 16673933, 2023: 19766807}
# 1 April 2024 totals that are sourced
APR24 = {"Almaty city": 2236751, "Turkistan": 2143693, "Almaty oblast": 1534521, "Astana city": 1440821,
         "Shymkent city": 1226931, "Zhambyl": 1222702, "Karaganda": 1135142}
NAT24_TOTAL, NAT24_URBAN = 20095963, 12513014

REGION = {  # oblast -> stratum code (Astana handled by ASTANA_STRATUM)
    "Akmola": 1, "Kostanay": 1, "North Kazakhstan": 1, "Pavlodar": 1,
    "East Kazakhstan": 2, "Abai": 2,
    "Almaty oblast": 3, "Zhetisu": 3, "Zhambyl": 3, "Kyzylorda": 3, "South Kazakhstan": 3,
    "Turkistan": 3, "Shymkent city": 3,
    "Aktobe": 4, "Atyrau": 4, "Mangystau": 4, "West Kazakhstan": 4,
    "Karaganda": 5, "Ulytau": 5,
    "Almaty city": 6,
}

# ---- urban shares: (share, status, source, note) per frame; None -> residual pool
CITY = ("Astana city", "Almaty city", "Shymkent city")
SH = {}
def share_row(oblast, frame, share, status, source, note, year_label):
    r = add("urban_share", oblast, year_label, round(share * 100, 2), "percent", status, source, note)
    SH[(oblast, frame)] = (share, r)

SRC_WKO10 = "https://doznavatel-zadel.blogspot.com/2012/08/blog-post_5788.html (copy of primeminister.kz region page)"
SRC_WKO12 = "https://www.inform.kz/ru/v-zapadno-kazahstanskoy-oblasti-chislennost-naseleniya-dostigla-615-6-tysyach-chelovek_a2496614"
SRC_WKO19 = "https://fr.wiki7.org/wiki/Западно-Казахстанская_область (copy of ru.wikipedia)"
SRC_MAN09 = "https://mangystau.invest.gov.kz/doing-business-here/intro/"
SRC_PAV21 = "http://irbistv.kz/obshhestvo/v-pavlodarskoj-oblasti-snizilsya-estestvennyij-prirost-naseleniya?page=5"
SRC_PAV23 = "https://pavlodarnews.kz/pavlodar-oblisinda-khaliқ-sani-artti"
SRC_KAR21 = "https://the-tenge.kz/articles/v-kazakhstane-stalo-menshe-selchan (2021 census final results, Bureau of National Statistics)"
SRC_ALM16 = "https://www.gov.kz/memleket/entities/qazalem/activities/27983?lang=en"
SRC_SKO14 = "https://m.baike.so.com/doc/6483294-6696999.html (360 Baike, Chinese encyclopedia)"
# added in the second search round (see README "Urban shares: what is sourced")
SRC_ATY24 = "https://mgorod.kz/news/naselenie-atyrauskoj-oblasti-prevysilo-700-tysyach-chelovek (citing the Atyrau department of the Bureau of National Statistics)"
SRC_KZO20 = "http://old.kzvesti.kz/news/50096-o-demograficheskoy-situacii-v-kyzylordinskoy-oblasti.html (citing the Kyzylorda statistics department)"
SRC_KZO25 = "https://kaz.inform.kz/news/kizilorda-oblisinda-koshp-kelgenderden-ketkender-sani-ek-ese-kop-30a682/ (Kazinform, citing the Kyzylorda statistics department)"
# added in the third search round (issue 14 item 5): latest-frame shares of three former pool units
SRC_VKO25 = "https://yk.kz/news/obshhestvo/v-vko-sokrashhaetsya-chislennost-naseleniya-405518.html (citing the Bureau of National Statistics)"
SRC_SKO25 = "https://www.gov.kz/memleket/entities/sko?lang=kk (North Kazakhstan akimat page)"
SRC_MAN25 = "https://www.lada.kz/aktau_news/society/147889-nazvana-chislennost-naseleniia-mangistau.html (citing the Bureau of National Statistics)"
KZO20 = 361.5 / 809.3          # 1 Jul 2020 urban / total (thousands)
KZO25 = 0.47                   # 1 Oct 2025, rounded percent
r_kzo20 = add("urban_share", "Kyzylorda", "1 Jul 2020", round(KZO20 * 100, 2), "percent", "sourced", SRC_KZO20,
              "\"Численность населения области на 1 июля 2020 года составила 809,3 тысячи человек, в том числе городского – 361,5 тысячи (44,7%)\"")
r_kzo25 = add("urban_share", "Kyzylorda", "1 Oct 2025", 47.0, "percent", "sourced", SRC_KZO25,
              "\"1 қазандағы мәліметінше, өңір тұрғындарының саны 845,9 мың адамға жетті. Оның 53%-ы ауылда, 47%-ы қалада тұрады\" (53% rural, 47% urban)")

for frame in (2007, 2012):
    yl = "start of %d" % frame
    # 2007/2012: nearest available sourced share carried over (estimate)
    share_row("West Kazakhstan", frame, *( (282911/624280, "derived", SRC_WKO10,
              "start-2010 urban 282,911 / total 624,280 (\"городское – 282 911\"); carried to %d as estimate" % frame)
              if frame == 2007 else (0.489, "sourced", SRC_WKO12,
              "\"300,8 тысяч человек (48,9 процента) живут в городах\" (Aug 2012); used for start of 2012")), yl)
    share_row("Mangystau", frame, 0.53, "estimate", SRC_MAN09,
              "\"including the urban population - 234.7 thousand people (53%%)\" at 1 Dec 2009; carried to %d" % frame, yl)
    share_row("Karaganda", frame, 0.80, "estimate", SRC_KAR21,
              "2021 census: \"Карагандинская область, где 80%% населения являются горожанами\"; carried back to %d (Karaganda's share is historically stable)" % frame, yl)
    share_row("Pavlodar", frame, 529972/750097, "estimate", SRC_PAV21,
              "1 Jul 2021: 750,097 residents \"в том числе в городах — 529 972\" (70.65%%); carried back to %d" % frame, yl)
    share_row("Almaty oblast", frame, 0.242, "estimate", SRC_ALM16,
              "\"urban residents amount to just 24.2%%\" (start of 2016, pre-Zhetisu-split oblast); carried back to %d" % frame, yl)
    share_row("South Kazakhstan", frame, 0.374, "estimate", SRC_SKO14,
              "\"城市人口占37.4%%\" (urban 37.4%%, Dec 2014 context, pre-2018 oblast incl. Shymkent); low-reliability source; muftyat.kz gives 47%% (not used); carried back to %d" % frame, yl)
    share_row("Zhambyl", frame, 0.435, "estimate", SRC_159623,
              "2024: Zhambyl urban share 43.5%%; carried back to %d" % frame, yl)
    share_row("Kyzylorda", frame, KZO20, "estimate", SRC_KZO20,
              "1 Jul 2020: urban 361.5 of 809.3 thousand (44.7%%, row R%d); carried back to %d. Kyzylorda is one of the six regions with "
              "the largest urban growth 2009-2021 (the-tenge.kz, 2021 census), so this is an upper bound for %d - still below the "
              "residual-pool share it replaces" % (r_kzo20, frame, frame), yl)
for frame in (2024,):
    yl = "1 Apr 2024 (or nearest)"
    share_row("Karaganda", frame, 0.817, "sourced", SRC_159623, "\"Karagandy (81.7%)\"", yl)
    share_row("Ulytau", frame, 0.792, "sourced", SRC_159623, "\"Ulytau (79.2%)\"", yl)
    share_row("Aktobe", frame, 0.75, "sourced", SRC_159623, "\"Aktobe (75%)\"", yl)
    share_row("Almaty oblast", frame, 0.161, "sourced", SRC_159623, "\"least in Almaty (16.1%)\" (post-2022 oblast)", yl)
    share_row("Turkistan", frame, 0.247, "sourced", SRC_159623, "\"Тurkіstan (24.7%)\"", yl)
    share_row("Zhambyl", frame, 0.435, "sourced", SRC_159623, "\"Zhambyl (43.5%)\"", yl)
    share_row("Pavlodar", frame, 532870/(532870+222033), "derived", SRC_PAV23,
              "1 Jan 2023: urban 532,870, rural 222,033 (\"қала тұрғындарының саны - 532 870\"); used for 2024", yl)
    share_row("Atyrau", frame, 389669 / 703180, "derived", SRC_ATY24,
              "1 Jan 2024: total 703,180, \"Городское население составляет 389 669 человек, сельское - 313 511 человек\"; used for 1 Apr 2024", yl)
    # Kyzylorda and Mangystau: see the fourth-round block after the total-population rows
    share_row("West Kazakhstan", frame, 0.5237, "estimate", SRC_WKO19,
              "1 Nov 2019: \"343 766 (52,37%) personnes vivent dans les villes\"; carried forward to 2024", yl)
    # post-2022 East Kazakhstan (without Abai): start of 2025, carried back 9 months
    share_row("East Kazakhstan", frame, 485729 / 723967, "estimate", SRC_VKO25,
              "1 Jan 2025: \"на начало 2025 года в ВКО проживали 723 967 человек, из них в городах области - 485 729 человек\" "
              "(67.09%); carried back to 1 Apr 2024 (post-2022 oblast, without Abai)", yl)
    share_row("North Kazakhstan", frame, 258.3 / 518.9, "estimate", SRC_SKO25,
              "1 Jun 2025: \"халық саны 518,9 мың адамды ... Қала халқының саны 258,3 мың адамды немесе 49,8%\" "
              "(urban 258.3 of 518.9 thousand); carried back to 1 Apr 2024", yl)

# national urban controls
r_nat09 = add("urban_share", "Kazakhstan", "2009 census", 54.11, "percent", "derived",
              "rows: seed urban_population 2009 / total_population 2009 (kazworld.info)", "8,662,400 / 16,009,600")
r_dec12 = add("urban_population", "Kazakhstan", "1 Dec 2012", 9254700, "persons", "sourced",
              "https://en.inform.kz/news/kazakhstan-population-number-increased-by-2-6_a2526677/",
              "\"16.897 mln people in December 2012. This includes 9 mln 254.7 thousand urban residents\"")
r_dec12t = add("total_population", "Kazakhstan", "1 Dec 2012", 16896900, "persons", "sourced",
               "https://en.inform.kz/news/kazakhstan-population-number-increased-by-2-6_a2526677/",
               "16.897 mln = 9,254.7 thousand urban + 7,642.2 thousand rural")
r_nat24 = add("urban_population", "Kazakhstan", "1 Apr 2024", NAT24_URBAN, "persons", "sourced", SRC_159623,
              "\"Urban – 12513014 people\" (also in seed rows; repeated here as the 2024 control)")
r_nat24t = add("total_population", "Kazakhstan", "1 Apr 2024", NAT24_TOTAL, "persons", "sourced", SRC_159623,
               "\"All population – 20095963 people\"")

# total-population rows
TOT = {}
for y in (2007, 2012, 2023):
    for ob, v in SERIES[y].items():
        TOT[(ob, y)] = (v, add("total_population", ob, "start of %d" % y, v, "persons", "sourced", SRC_SERIES,
                              "series value for %d (start-of-year estimate; 2007 is pre-2009-census, not revised); "
                              "'Туркестанская 1' = South Kazakhstan incl. Shymkent before 2018" % y))
    add("total_population", "Kazakhstan", "start of %d" % y, SERIES_NAT[y], "persons", "sourced", SRC_SERIES,
        "national value of the same series")
for ob, v in APR24.items():
    TOT[(ob, 2024)] = (v, add("total_population", ob, "1 Apr 2024", v, "persons", "sourced", SRC_0424,
                              "1 April 2024 figure quoted from stat.gov.kz"))
rest23 = sum(v for ob, v in SERIES[2023].items() if ob not in APR24)
f24 = (NAT24_TOTAL - sum(APR24.values())) / rest23
r_f24 = add("growth_factor", "regions without a sourced Apr-2024 total", "1 Jan 2023 -> 1 Apr 2024", round(f24, 6),
            "ratio", "estimate", "formula: (R%d - sum of sourced Apr-2024 totals) / sum of their start-2023 series totals" % r_nat24t,
            "one common factor so that the 20 units sum exactly to the national Apr-2024 total")
for ob, v in SERIES[2023].items():
    if ob not in APR24:
        TOT[(ob, 2024)] = (round(v * f24), add("total_population", ob, "1 Apr 2024", round(v * f24), "persons", "estimate",
                           "formula: start-2023 series total x growth factor R%d" % r_f24, "start-2023 value %d" % v))

# ---- fourth search round (issue 14 item 5): start-2023 rural counts give Mangystau and Kyzylorda a derived share
# at 1 Jan 2023 (Bureau figures quoted by bizmedia.kz and, in Kazakh, by arka-azhary.kz from Kazinform). The 2024
# share of each is the linear interpolation in time between that point and its sourced 2025 point (estimate).
SRC_RUR23 = ("https://bizmedia.kz/2023-02-28-bolee-treti-naseleniya-kazahstana-prozhivaet-v-selskih-rajonah (citing the Bureau "
             "of National Statistics); same figures in https://arka-azhary.kz/?p=40212 (Kazinform copy, in Kazakh)")
RUR23 = {"Kyzylorda": (442423, "Кызылординская область – 442 423"), "Mangystau": (420052, "Мангистауская область – 420 052")}
r_man25 = add("urban_share", "Mangystau", "1 Dec 2025", round(382782 / 818345 * 100, 2), "percent", "derived", SRC_MAN25,
              "1 Dec 2025: total 818,345, \"численность городского населения составила 382 782 человека\", rural 435,563 "
              "(382,782 / 818,345). Below the 53% of Dec 2009 (row for 2007/2012): the rural population around Aktau and "
              "Zhanaozen grew faster; the city akimat figures include subordinate rural settlements")
SH23 = {}
for ob, (rural, quote) in RUR23.items():
    r_rur = add("rural_population", ob, "start of 2023", rural, "persons", "sourced", SRC_RUR23,
                "\"на начало 2023 года в селах страны проживает 7,5 миллиона человек ... %s\" (rural residents)" % quote)
    tot23, r_tot23 = TOT[(ob, 2023)]
    SH23[ob] = ((tot23 - rural) / tot23, add(
        "urban_share", ob, "start of 2023", round((tot23 - rural) / tot23 * 100, 2), "percent", "derived",
        "formula: (R%d - R%d) / R%d (series total minus rural, over series total)" % (r_tot23, r_rur, r_tot23),
        "urban %d of %d at 1 Jan 2023; the same article's rural counts give Almaty oblast 16.2%%, Turkistan 24.5%%, "
        "Zhambyl 43.3%% and Ulytau 79.1%% urban against the same series totals, in line with the sourced 2024 shares, "
        "so the two sources count alike" % (tot23 - rural, tot23)))
for ob, (p25, r25, t25, label25) in {"Kyzylorda": (KZO25, r_kzo25, 2025.75, "1 Oct 2025, rounded"),
                                     "Mangystau": (382782 / 818345, r_man25, 2025 + 11 / 12, "1 Dec 2025")}.items():
    p23, r23 = SH23[ob]
    _w = (2024.25 - 2023.0) / (t25 - 2023.0)
    share_row(ob, 2024, p23 + _w * (p25 - p23), "estimate",
              "formula: linear interpolation in time between R%d (1 Jan 2023) and R%d (%s) to 1 Apr 2024 (weight %.3f)"
              % (r23, r25, label25, _w),
              "%.2f%% (1 Jan 2023) and %.2f%% (%s) bracket the 2024 value" % (p23 * 100, p25 * 100, label25),
              "1 Apr 2024 (or nearest)")

# national urban controls per frame
CTRL = {}
u07 = round(SERIES_NAT[2007] * 0.5411)
CTRL[2007] = (u07, add("urban_population", "Kazakhstan", "start of 2007", u07, "persons", "estimate",
              "formula: national start-2007 series total x 2009-census urban share R%d" % r_nat09,
              "assumes the urban share was the same in 2007 as at the Feb-2009 census (it fell 56.4%->54.1% from 1999 to 2009, so 2007 may be ~0.3 pp higher)"))
u12 = round(SERIES_NAT[2012] * 9254700 / 16896900)
CTRL[2012] = (u12, add("urban_population", "Kazakhstan", "start of 2012", u12, "persons", "derived",
              "formula: national start-2012 series total x (R%d / R%d)" % (r_dec12, r_dec12t),
              "urban share 54.77% of 1 Dec 2012 applied to the 1 Jan 2012 total"))
CTRL[2024] = (NAT24_URBAN, r_nat24)

# ---------------------------------------------------------------- urban by unit
URB = {}
POOLED = {}  # (unit, frame) -> True when the unit got the common residual-pool share
for frame in (2007, 2012, 2024):
    y = 2023 if frame == 2024 else frame
    units = list(SERIES[y].keys())
    tot = {ob: TOT[(ob, frame)][0] for ob in units}
    known, pool = {}, []
    for ob in units:
        if ob in CITY:
            known[ob] = (tot[ob], None)
        elif (ob, frame) in SH:
            known[ob] = (tot[ob] * SH[(ob, frame)][0], SH[(ob, frame)][1])
        else:
            pool.append(ob)
    resid = CTRL[frame][0] - sum(v for v, _ in known.values())
    ps = resid / sum(tot[ob] for ob in pool)
    r_pool = add("urban_share", "residual pool: " + "; ".join(pool), "frame %d" % frame, round(ps * 100, 2), "percent",
                 "estimate", "formula: (national urban control R%d - cities at 100%% - units with a share row) / total population of the pool" % CTRL[frame][1],
                 "common urban share given to every unit without a sourced share in this frame")
    if frame == 2007:  # one row for every frame, written in the first
        r_city = add("urban_share", "Almaty city; Astana city; Shymkent city", "all frames", 100, "percent",
                     "estimate", "assumption", "cities of republican significance counted as wholly urban")
    for ob in units:
        if ob in CITY:
            URB[(ob, frame)] = (tot[ob], [TOT[(ob, frame)][1], r_city])
        elif ob in pool:
            URB[(ob, frame)] = (tot[ob] * ps, [TOT[(ob, frame)][1], r_pool])
            POOLED[(ob, frame)] = True
        else:
            URB[(ob, frame)] = (known[ob][0], [TOT[(ob, frame)][1], known[ob][1]])

# ---------------------------------------------------------------- age structure
# urban age structure, start of 2006 (percent of urban population)
crc = {"0-9": 14.1, "10-14": 7.7, "15-29": 27.2, "30-44": 22.7, "45-59": 17.6, "60+": 10.7}
r_crc = {}
for k, v in crc.items():
    r_crc[k] = add("urban_age_share", "Kazakhstan urban", "start of 2006", v, "percent of urban population", "sourced", SRC_CRC,
                   "table 'Age structure of the urban and rural populations', urban 2006 column, %s years" % k)
crc_ids = "R%d-R%d" % (min(r_crc.values()), max(r_crc.values()))
age06 = {"15-17": crc["15-29"] * 3 / 15, "18-29": crc["15-29"] * 12 / 15, "30-39": crc["30-44"] * 10 / 15,
         "40-49": crc["30-44"] * 5 / 15 + crc["45-59"] * 5 / 15, "50-59": crc["45-59"] * 10 / 15, "60+": crc["60+"]}
ad18_06 = sum(v for k, v in age06.items() if k != "15-17") / 100
ad15_06 = sum(age06.values()) / 100
r_a18 = add("adult_share_18plus", "Kazakhstan urban", "start of 2006 (used for 2007)", round(ad18_06 * 100, 2), "percent", "estimate",
            "formula: 100 - (0-9) - (10-14) - 3/15 x (15-29), rows " + crc_ids,
            "uniform spread of single years inside the 15-29 band")
r_a15 = add("adult_share_15plus", "Kazakhstan urban", "start of 2006 (used for 2012)", round(ad15_06 * 100, 2), "percent", "estimate",
            "formula: 100 - (0-9) - (10-14), rows " + crc_ids, "2006 urban structure reused for 2012 (no 2012 urban age table found)")
# CIA 2009 sex ratios
r_sr1 = add("sex_ratio", "Kazakhstan", "2009 est.", 0.95, "males per female", "sourced", SRC_CIA09, "\"15–64 years 0.95 male(s)/female\"")
r_sr2 = add("sex_ratio", "Kazakhstan", "2009 est.", 0.54, "males per female", "sourced", SRC_CIA09, "\"65 and over 0.54 male(s)/female\"")
# 2023 national by sex and age (sarbaz)
sb = {("1", "0-17"): 3464755, ("2", "0-17"): 3273262, ("1", "18-44"): 3640063, ("2", "18-44"): 3580840,
      ("1", "45-59"): 1511832, ("2", "45-59"): 1679940, ("1", "60-74"): 870738, ("2", "60-74"): 1221748,
      ("1", "75+"): 160313}
r_sb = {}
for (s, a), v in sb.items():
    r_sb[(s, a)] = add("population_by_sex_age", "Kazakhstan", "Nov 2023", v, "persons", "sourced", SRC_SARBAZ,
                       "%s, age %s (sex 1 male, 2 female)" % ("men" if s == "1" else "women", a))
w75 = 20000000 - sum(sb.values())
r_w75 = add("population_by_sex_age", "Kazakhstan", "Nov 2023", w75, "persons", "estimate",
            "formula: 20,000,000 (the article's headline total) - all other sex x age cells",
            "women 75+; the article's own row is cut off; total is rounded so this cell absorbs the rounding")
r_014 = add("share_0_14", "Kazakhstan", "2023 est.", 29.5, "percent", "sourced", SRC_WIKI23, "\"0–14 years 29.5%\"")
r_a15_24 = add("adult_share_15plus", "Kazakhstan (national, used for urban)", "2023 (used for 2024)", 70.5, "percent", "estimate",
               "formula: 100 - R%d" % r_014, "national share applied to urban population; urban 15+ share is likely a few points higher")

# ---------------------------------------------------------------- write frame_sources
# the project's shared/ folder lies beside the repository
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "shared")
with open(os.path.join(SHARED, "data", "frame_sources.csv"), newline="") as fh:
    seed = list(csv.DictReader(fh))
OFF = len(seed)
def rid(i):
    return "R%d" % (i + OFF)
def fix(text):
    import re
    return re.sub(r"R(\d+)", lambda m: "R%d" % (int(m.group(1)) + OFF), text)
cols = ["item", "area", "year", "value", "unit", "status", "source", "quote_or_note"]
with open(os.path.join(HERE, "frame_sources.csv" if ALTERNATIVE is None else os.devnull), "w",
          newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols)
    w.writeheader()
    for r in seed:
        w.writerow(r)
    for r in rows:
        r = dict(r)
        r["source"] = fix(r["source"])
        r["quote_or_note"] = fix(r["quote_or_note"])
        w.writerow(r)

# ---------------------------------------------------------------- strata frame
ADULT = {2007: (ad18_06, 18, r_a18), 2012: (ad15_06, 15, r_a15), 2024: (0.705, 15, r_a15_24)}
out = []
for frame in (2007, 2012, 2024):
    y = 2023 if frame == 2024 else frame
    for code in range(1, 7):
        members = [ob for ob in SERIES[y] if (REGION.get(ob) == code) or (ob == "Astana city" and ASTANA_STRATUM == code)]
        u = sum(URB[(ob, frame)][0] for ob in members)
        ids = sorted({i for ob in members for i in URB[(ob, frame)][1] if i}, key=int)
        share, amin, ra = ADULT[frame]
        statuses = set()
        for ob in members:
            for i in URB[(ob, frame)][1]:
                statuses.add(rows[i - 1]["status"])
        # stratum status = weakest status among the rows its urban total rests on (oblast totals, urban shares,
        # residual-pool share, 100%-city assumption): all sourced -> sourced; only sourced/derived -> derived; else estimate
        st = "sourced" if statuses == {"sourced"} else ("derived" if statuses <= {"sourced", "derived"} else "estimate")
        pooled = [ob for ob in members if POOLED.get((ob, frame))]
        est_sh = [ob for ob in members if ob not in CITY and not POOLED.get((ob, frame))
                  and rows[SH[(ob, frame)][1] - 1]["status"] == "estimate"]
        out.append(dict(frame_year=frame, stratum_code=code, stratum=STRATA[code], urban_pop_total=round(u),
                        urban_pop_adult=round(u * share), adult_age_min=amin, status=st,
                        method=("sum over %s of oblast total x urban share; adult = total x national-urban adult share %s"
                                % ("; ".join(members), rid(ra))
                                + ("; residual-pool share for: %s" % ", ".join(pooled) if pooled else "")
                                + ("; estimate (carried-over or interpolated) share for: %s" % ", ".join(est_sh) if est_sh else "")),
                        source_ids=" ".join(rid(i) for i in ids + [ra])))
STRATA_FILE = "strata_frame.csv" if ALTERNATIVE is None else "strata_frame_astana_%s.csv" % ALTERNATIVE
with open(os.path.join(HERE, STRATA_FILE), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(out[0].keys()))
    w.writeheader(); w.writerows(out)

# ---------------------------------------------------------------- margins
marg = []
def put(frame, margin, level, share, method, ids):
    tot_adult = sum(r["urban_pop_adult"] for r in out if r["frame_year"] == frame)
    marg.append(dict(frame_year=frame, margin=margin, level=level, share=round(share, 6),
                     count=round(share * tot_adult), status="estimate", method=method, source_ids=ids))

m09 = 0.95 / 1.95; m65 = 0.54 / 1.54
for frame, bands, base in ((2007, ["18-29", "30-39", "40-49", "50-59", "60+"], ad18_06 * 100),
                           (2012, ["15-17", "18-29", "30-39", "40-49", "50-59", "60+"], ad15_06 * 100)):
    for b in bands:
        p = age06[b] / base
        m = m65 if b == "60+" else m09
        ids = "%s %s %s" % (crc_ids.replace("R", "R", 1), rid(r_sr2 if b == "60+" else r_sr1), rid(r_a18 if frame == 2007 else r_a15))
        ids = fix(ids) if False else ids
        meth = ("urban age share (2006 urban table, bands split uniformly by single year) x male share %.4f from the 2009 "
                "national sex ratio %s; share of the urban %d+ population" % (m, "65+ (applied to 60+)" if b == "60+" else "15-64",
                                                                              18 if frame == 2007 else 15))
        put(frame, "sex_agegrp", "1:" + b, p * m, meth, fix_ids := (" ".join(["R%d-R%d" % (min(r_crc.values()) + OFF, max(r_crc.values()) + OFF),
                                                                              rid(r_sr2 if b == "60+" else r_sr1),
                                                                              rid(r_a18 if frame == 2007 else r_a15)])))
        put(frame, "sex_agegrp", "2:" + b, p * (1 - m), meth, fix_ids)
# latest: national Nov-2023 sex x age, bands split uniformly
cell = {}
for s in ("1", "2"):
    c017 = sb[(s, "0-17")]; c1844 = sb[(s, "18-44")]; c4559 = sb[(s, "45-59")]
    c60 = sb[(s, "60-74")] + (sb[("1", "75+")] if s == "1" else w75)
    cell[(s, "15-17")] = c017 * 3 / 18
    cell[(s, "18-29")] = c1844 * 12 / 27
    cell[(s, "30-39")] = c1844 * 10 / 27
    cell[(s, "40-49")] = c1844 * 5 / 27 + c4559 * 5 / 15
    cell[(s, "50-59")] = c4559 * 10 / 15
    cell[(s, "60+")] = c60
den = sum(cell.values())
ids24 = " ".join(sorted({rid(i) for i in r_sb.values()} | {rid(r_w75)}, key=lambda x: int(x[1:])))
for (s, b), v in cell.items():
    put(2024, "sex_agegrp", "%s:%s" % (s, b), v / den,
        "national Nov-2023 sex x age counts (0-17, 18-44, 45-59, 60-74, 75+) split uniformly by single year into the target bands; "
        "national 15+ structure used for the urban 15+ population", ids24)

# ethnic: national shares applied to urban adults
eth = {
    2007: ([("Kazakh", 58.6), ("Russian", 26.0)], SRC_CRC, "as at 1.1.2006 (official estimate)", "estimated national composition 1 Jan 2006"),
    2012: ([("Kazakh", 63.1), ("Russian", 23.7)], "https://en.wikipedia.org/wiki/2009_population_census_of_Kazakhstan", "2009 census", "2009 census (seed rows 5-6)"),
    2024: ([("Kazakh", 70.4), ("Russian", 15.54)], "https://aqparat.info/news/2023/11/07/10593416-chislennost_kazahov_uvelichilas_do_13_4.html ; https://perceptiopt.com/Русские_в_Казахстане (2,981,946 = 15.54%, 2021 census)", "2021 census", "2021 census"),
}
for frame, (pairs, src, yr, lab) in eth.items():
    ids = []
    if frame == 2012:
        ids = ["R5", "R6"]
    else:
        for lev, v in pairs:
            ids.append(rid(add("share_" + lev.lower(), "Kazakhstan (total population)", yr, v, "percent", "sourced", src,
                               "%s share %s%%" % (lev, v))))
    other = 100 - sum(v for _, v in pairs)
    for lev, v in pairs + [("Other", other)]:
        put(frame, "ethnic", lev, v / 100,
            "national %s ethnic shares (total population, all ages) applied to the urban adult frame; Other = 100 - Kazakh - Russian. "
            "Urban Russians are under-represented by this (Russians are more urban than Kazakhs)" % lab, " ".join(ids))
# rewrite frame_sources with any rows added after the first write
with open(os.path.join(HERE, "frame_sources.csv" if ALTERNATIVE is None else os.devnull), "w",
          newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols)
    w.writeheader()
    for r in seed:
        w.writerow(r)
    for r in rows:
        r = dict(r); r["source"] = fix(r["source"]); r["quote_or_note"] = fix(r["quote_or_note"]); w.writerow(r)
with open(os.path.join(HERE, "margins.csv" if ALTERNATIVE is None else os.devnull), "w",
          newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(marg[0].keys()))
    w.writeheader(); w.writerows(marg)
print("frame_sources rows:", OFF + len(rows))
for r in out:
    print(r["frame_year"], r["stratum_code"], r["stratum"], r["urban_pop_total"], r["urban_pop_adult"], r["status"])
