"""Build frames/towns_2021.csv: a frame of primary units (towns) for wave 3, every figure sourced.

Run:  python frames/build_towns.py   (from the repo root or from frames/)

One row per town with its population, the date of the figure, its oblast and the stratum the
oblast belongs to (``oblast_map.csv``; Astana -> Northern by default, as in build_frames.py).
Edit the TOWNS tables below (never the CSV) and re-run.

Coverage (see frames/README.md, "towns_2021.csv"): 86 of the 90 settlements with town status --
every town of 50,000+ (``TOWNS``) and 52 smaller towns (``SMALL_TOWNS``).  The population is the
1 October 2021 census count where a source giving it was found, otherwise the latest official
figure found (Bureau of National Statistics, as quoted by the source, mostly a 1 January
estimate); ``year`` and ``reference_date`` say which (``reference_date`` is YYYY-MM-DD, or YYYY
where the source gives only the year).  Not in the file: Kosshy, Bulaevo, Baikonur, Alatau (no
usable official figure found, or a special status; see the README) and the urban-type
settlements (posyolki).
"""
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "towns_2021.csv")
OBLAST_MAP = os.path.join(HERE, "oblast_map.csv")
ASTANA_STRATUM = 1  # as build_frames.py: 1 Northern (default), 5 Central
STRATA = {1: "Northern", 2: "Eastern", 3: "Southern", 4: "Western", 5: "Central", 6: "Almaty city"}

# ---------------------------------------------------------------- sources
SRC_WIKI = ("https://wikiclassic.com/wiki/List_of_most_populous_cities_in_Kazakhstan (copy of en.wikipedia "
            "'List of most populous cities in Kazakhstan'; column 'Population (October 2021 census)', "
            "note [1] = Bureau of National Statistics)")
SRC_PARASAT = ("https://parasat.club/news/samye-bolsie-sredi-malenkix-goroda-kazaxstana-po-cislennosti-naseleniya-270 "
               "(E. Poletaev's ranking of towns >= 50,000 that are not oblast centres, 'по данным Бюро "
               "национальной статистики РК на 1 января 2024 г.')")
SRC_KONAEV = ("https://defzone.net/wiki/de/Qonajew (copy of de.wikipedia 'Qonajew', infobox 'Einwohner: "
              "55.198 (1. Jan. 2023)', note [1] = stat.gov.kz)")

CENSUS = "2021-10-01"
INFOBOX_NOTE = "infobox 'Einwohner', note [1] = Bureau of National Statistics population file (stat.gov.kz)"
CENSUS_NOTE = "section 'Bevölkerung': 2021 census result (Volkszählung 2021)"
SRC_KAZPRAVDA = ("https://kazpravda.kz/n/kakie-goroda-mogut-stat-selami-v-kazahstane/ (Kazpravda: 13 district towns "
                 "under 10,000 'По данным Бюро национальной статистики ... по состоянию на 1 октября 2020 года')")


def de(url, article, note=INFOBOX_NOTE):
    """Source string for a stored copy of a de.wikipedia town article."""
    return f"{url} (copy of de.wikipedia '{article}'; {note})"


def ru(url, article):
    """Source string for a stored (machine-translated) copy of a ru.wikipedia town article."""
    return (f"{url} (translated copy of ru.wikipedia '{article}'; infobox 'Население' with the year only; "
            "the footnote cites the Bureau of National Statistics)")


# town, oblast (name as in oblast_map.csv), population, year, reference date, source, quote
TOWNS = [
    # --- 2021 census counts: rows 1-24 of the list (ranked by the 1 Jan 2023 estimate; the stored copy stops at row 25)
    ("Almaty", "Almaty city", 2030285, 2021, CENSUS, SRC_WIKI, "1 | Almaty | 2,161,797 | 2,030,285"),
    ("Astana", "Astana city", 1234042, 2021, CENSUS, SRC_WIKI, "2 | Astana | 1,354,507 | 1,234,042"),
    ("Shymkent", "Shymkent city", 1112478, 2021, CENSUS, SRC_WIKI, "3 | Shymkent | 1,192,120 | 1,112,478"),
    ("Aktobe", "Aktobe", 540493, 2021, CENSUS, SRC_WIKI, "4 | Aktobe | 559,911 | 540,493 | +3.59% | Aktobe"),
    ("Karaganda", "Karaganda", 508824, 2021, CENSUS, SRC_WIKI, "5 | Karagandy | 515,632 | 508,824 | +1.34% | Karagandy"),
    ("Taraz", "Zhambyl", 418368, 2021, CENSUS, SRC_WIKI, "6 | Taraz | 427,356 | 418,368 | +2.15% | Jambyl"),
    ("Oskemen", "East Kazakhstan", 349463, 2021, CENSUS, SRC_WIKI,
     "7 | Oskemen | 352,894 | 349,463 | +0.98% | East Kazakhstan"),
    ("Pavlodar", "Pavlodar", 333190, 2021, CENSUS, SRC_WIKI, "8 | Pavlodar | 334,096 | 333,190 | +0.27% | Pavlodar"),
    ("Atyrau", "Atyrau", 306548, 2021, CENSUS, SRC_WIKI, "9 | Atyrau | 316,468 | 306,548 | +3.24% | Atyrau"),
    ("Semey", "Abai", 303210, 2021, CENSUS, SRC_WIKI,
     "10 | Semey | 308,143 | 303,210 | +1.63% | Abai (East Kazakhstan oblast at the census; Abai since 2022-06-08)"),
    ("Kyzylorda", "Kyzylorda", 271309, 2021, CENSUS, SRC_WIKI, "11 | Kyzylorda | 278,638 | 271,309 | +2.70% | Kyzylorda"),
    ("Kostanay", "Kostanay", 258990, 2021, CENSUS, SRC_WIKI, "12 | Kostanay | 264,466 | 258,990 | +2.11% | Kostanay"),
    ("Aktau", "Mangystau", 251855, 2021, CENSUS, SRC_WIKI, "13 | Aktau | 263,893 | 251,855 | +4.78% | Mangystau"),
    ("Oral", "West Kazakhstan", 247467, 2021, CENSUS, SRC_WIKI,
     "14 | Oral | 253,773 | 247,467 | +2.55% | West Kazakhstan"),
    ("Petropavl", "North Kazakhstan", 222076, 2021, CENSUS, SRC_WIKI,
     "15 | Petropavl | 222,636 | 222,076 | +0.25% | North Kazakhstan"),
    ("Turkistan", "Turkistan", 207605, 2021, CENSUS, SRC_WIKI, "16 | Turkistan | 220,159 | 207,605 | +6.05% | Turkistan"),
    ("Kokshetau", "Akmola", 171630, 2021, CENSUS, SRC_WIKI, "17 | Kokshetau | 174,614 | 171,630 | +1.74% | Akmola"),
    ("Temirtau", "Karaganda", 171019, 2021, CENSUS, SRC_WIKI, "18 | Temirtau | 171,893 | 171,019 | +0.51% | Karagandy"),
    ("Taldykorgan", "Zhetisu", 165325, 2021, CENSUS, SRC_WIKI,
     "19 | Taldykorgan | 168,686 | 165,325 | +2.03% | Jetisu (Almaty oblast at the census; Zhetisu since 2022-06-08)"),
    ("Ekibastuz", "Pavlodar", 129748, 2021, CENSUS, SRC_WIKI, "20 | Ekibastuz | 129,000 | 129,748 | -0.58% | Pavlodar"),
    ("Rudny", "Kostanay", 112052, 2021, CENSUS, SRC_WIKI, "21 | Rudny | 112,078 | 112,052 | +0.02% | Kostanay"),
    ("Zhezkazgan", "Ulytau", 88320, 2021, CENSUS, SRC_WIKI,
     "22 | Jezkazgan | 89,092 | 88,320 | +0.87% | Ulytau (Karaganda oblast at the census; Ulytau since 2022-06-08)"),
    ("Kaskelen", "Almaty oblast", 79482, 2021, CENSUS, SRC_WIKI, "23 | Kaskelen | 82,393 | 79,482 | +3.66% | Almaty"),
    ("Kentau", "Turkistan", 72573, 2021, CENSUS, SRC_WIKI, "24 | Kentau | 74,474 | 72,573 | +2.62% | Turkistan"),
    # --- latest official estimate (census count not reachable; rows 25+ of the list are cut off)
    ("Zhanaozen", "Mangystau", 75604, 2024, "2024-01-01", SRC_PARASAT, "Жанаозен (Мангистауская область) - 75 604"),
    ("Balkhash", "Karaganda", 73450, 2024, "2024-01-01", SRC_PARASAT, "Балхаш (Карагандинская область) – 73 450"),
    ("Satbayev", "Ulytau", 68640, 2024, "2024-01-01", SRC_PARASAT, "Сатпаев (область Улытау) – 68 640"),
    ("Kulsary", "Atyrau", 66580, 2024, "2024-01-01", SRC_PARASAT, "Кульсары (Атырауская область) – 66 580"),
    ("Talgar", "Almaty oblast", 65366, 2024, "2024-01-01", SRC_PARASAT, "Талгар (Алматинская область) – 65 366"),
    ("Saryagash", "Turkistan", 59606, 2021, CENSUS,
     de("https://de.m.wikipedia.org./wiki/Saryaghasch", "Saryaghasch", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 59.606 Menschen in Saryaghasch. (1 Jan 2024: 62,215, parasat.club)"),
    ("Zharkent", "Zhetisu", 52361, 2021, CENSUS, de("https://kampuspedia.com/de/Scharkent", "Scharkent", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 52.361 Menschen in Scharkent. (1 Jan 2024: 53,144, parasat.club)"),
    ("Arys", "Turkistan", 52123, 2024, "2024-01-01", SRC_PARASAT, "Арысь (Туркестанская область) – 52 123"),
    ("Aksu", "Pavlodar", 51728, 2024, "2024-01-01", SRC_PARASAT, "Аксу (Павлодарская область) – 51 728"),
    ("Konaev", "Almaty oblast", 55198, 2023, "2023-01-01", SRC_KONAEV,
     "Einwohner: 55.198 (1. Jan. 2023) -- centre of Almaty oblast since 2022-06-08 (formerly Kapchagay)"),
]

# --- towns under 50,000 (86 - 34 = 52 rows), by oblast.  Official 1 Jan estimates are the Bureau's
# "Численность населения ... городов, районов, районных центров и поселков" files as cited by
# de.wikipedia; they count the town itself, not the town administration with its villages (ru.wikipedia
# infoboxes sometimes give the latter, e.g. Arkalyk 44,954 vs 26,365, Ridder 55,893 vs 45,859).
D21, D23, D25 = "2021-01-01", "2023-01-01", "2025-01-01"
RENKER = "https://wikipedia.k8s.renker.it/content/wikipedia_de_all_maxi/"
SMALL_TOWNS = [
    # Akmola
    ("Shchuchinsk", "Akmola", 47625, 2023, D23, de("https://de.m.wikipedia.org./wiki/Schtschutschinsk", "Schtschutschinsk"),
     "Einwohner: | 47.625 (1. Jan. 2023)[1]"),
    ("Stepnogorsk", "Akmola", 46401, 2012, "2012",
     "https://zims-fr.kiwix.campusafrica.gos.orange.com/wikipedia_fr_all_maxi/A/Stepnogorsk (copy of fr.wikipedia "
     "'Stepnogorsk'; table 'Recensements (*) ou estimations de la population')",
     "Sa population s'élevait à 46 401 habitants en 2012. [stale: no later official figure found]"),
    ("Atbasar", "Akmola", 28400, 2021, D21, de("https://de.wiki.li/Atbassar", "Atbassar"), "Einwohner: | 28.400 (1. Jan. 2021)[1]"),
    ("Makinsk", "Akmola", 18103, 2023, D23, de("https://dewiki.de/Lexikon/Makinsk", "Makinsk"),
     "Einwohner: | 18.103 (1. Jan. 2023)[1]"),
    ("Akkol", "Akmola", 15188, 2025, D25, de(RENKER + "Aqk%C3%B6l", "Aqköl"), "Einwohner: | 15.188 (1. Jan. 2025)[1]"),
    ("Esil", "Akmola", 11363, 2023, D23, de("http://de.wikipedia.org/wiki/Jessil", "Jessil"), "Einwohner: 11.363 (1. Jan. 2023)[1]"),
    ("Ereymentau", "Akmola", 8819, 2020, "2020-10-01", SRC_KAZPRAVDA,
     "Город Ерейментау ... На 1 октября 2020 года в нем 8 819 человек."),
    ("Derzhavinsk", "Akmola", 5811, 2020, "2020-10-01", SRC_KAZPRAVDA, "Город Державинск ... В нем 5 811 человек."),
    ("Stepnyak", "Akmola", 3457, 2020, "2020-10-01", SRC_KAZPRAVDA,
     "Город Степняк ... В нем, согласно последним данным, 3 457 человек."),
    # Aktobe
    ("Kandyagash", "Aktobe", 36445, 2021, D21,
     "https://es.us.edu.vn/pl/Kandyagasz (copy of pl.wikipedia 'Kandyagasz'; note [1] = Bureau of National Statistics, "
     "'Ludność ... stanem na początek 2021 roku')", "Populacja (2021) • liczba ludności 36 445[1]"),
    ("Khromtau", "Aktobe", 29579, 2021, CENSUS, de(RENKER + "Chromtau", "Chromtau", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 29.579 Menschen in Chromtau."),
    ("Shalkar", "Aktobe", 28024, 2023, D23, de("https://de.wikipedia.org./wiki/Schalqar", "Schalqar"),
     "Einwohner: | 28.024 (1. Jan. 2023)[1]"),
    ("Alga", "Aktobe", 22722, 2025, D25, de(RENKER + "Algha", "Algha"), "Einwohner: | 22.722 (1. Jan. 2025)[1]"),
    ("Emba", "Aktobe", 11811, 2019, "2019-01-01", de("https://de.wikipedia.org/wiki/Jembi", "Jembi"),
     "Einwohner: 11.811 (1. Jan. 2019)[1]"),
    ("Temir", "Aktobe", 2135, 2020, "2020-10-01", SRC_KAZPRAVDA, "Город Темир – город в Темирском районе ..., 2 135 жителей."),
    ("Zhem", "Aktobe", 1772, 2019, "2019", SRC_KAZPRAVDA, "Город Жем ... По данным за 2019 год, там проживало 1 772 человека."),
    # Almaty oblast
    ("Esik", "Almaty oblast", 41348, 2023, D23, de("https://www.wikidata.de-de.nina.az/Issyk.html", "Jessik"),
     "Einwohner 41 348 1 Jan 2023 1"),
    # Zhetisu
    ("Tekeli", "Zhetisu", 30317, 2023, D23, de("http://de.wikipedia.org./wiki/Tekeli", "Tekeli"),
     "Einwohner: 30.317 (1. Jan. 2023)[1]"),
    ("Usharal", "Zhetisu", 21122, 2021, CENSUS, de("https://de.m.wikipedia.org./wiki/%C3%9Cscharal", "Üscharal", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 21.122 Menschen in Üscharal."),
    ("Ushtobe", "Zhetisu", 19744, 2021, CENSUS, de("https://kampuspedia.com/de/%C3%9Cscht%C3%B6be", "Üschtöbe", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 19.744 Menschen in Üschtöbe."),
    ("Sarkand", "Zhetisu", 18014, 2023, D23, de("https://dewiki.de/Lexikon/Sarqan", "Sarqan"),
     "Einwohner: | 18.014 (1. Jan. 2023)[1]"),
    # West Kazakhstan
    ("Aksay", "West Kazakhstan", 35342, 2021, D21, de("https://de.wikiup.org/wiki/Aqsai", "Aqsai"),
     "Einwohner: | 35.342 (1. Jan. 2021)[1]"),
    # Zhambyl
    ("Shu", "Zhambyl", 45447, 2023, D23, de("https://www.wiki-data.de-de.nina.az/Schu_(Kasachstan).html", "Schu (Kasachstan)"),
     "Einwohner 45 447 1 Jan 2023 1"),
    ("Karatau", "Zhambyl", 28490, 2023, D23, de("https://www.wikidata.de-de.nina.az/Qaratau.html", "Qaratau"),
     "Einwohner 28 490 1 Jan 2023 1"),
    ("Zhanatas", "Zhambyl", 23068, 2021, D21, de("https://de.wiki.li/Schangatas", "Schangatas"),
     "Einwohner: 23.068 (1. Jan. 2021)[1]"),
    # Karaganda
    ("Saran", "Karaganda", 42852, 2021, D21, de("https://de.wikiup.org/wiki/Saran_(Kasachstan)", "Saran (Kasachstan)"),
     "Einwohner: | 42.852 (1. Jan. 2021)[1]"),
    ("Shakhtinsk", "Karaganda", 39185, 2023, D23, de("https://de.teknopedia.teknokrat.ac.id/wiki/Schachtinsk", "Schachtinsk"),
     "Einwohner: | 39.185 (1. Jan. 2023)[1]"),
    ("Abai", "Karaganda", 28560, 2023, D23, de("https://de.wikipedia.org/wiki/Abai_%28Kasachstan%29", "Abai (Kasachstan)"),
     "Einwohner: | 28.560 (1. Jan. 2023)[1]"),
    ("Priozersk", "Karaganda", 13430, 2022, "2022",
     ru("https://de.wiki7.org/wiki/%D0%9F%D1%80%D0%B8%D0%BE%D0%B7%D1%91%D1%80%D1%81%D0%BA", "Приозёрск"),
     "Bevölkerung 13.430 [2] Personen ( 2022 )"),
    ("Karkaraly", "Karaganda", 8238, 2021, D21, de("https://de.wikiup.org/wiki/Qarqaraly", "Qarqaraly"),
     "Einwohner: | 8.238 (1. Jan. 2021)[1]"),
    # Ulytau
    ("Karazhal", "Ulytau", 8123, 2025, D25, de(RENKER + "Qaraschal", "Qaraschal"),
     "Einwohner: | 8.123 (1. Jan. 2025)[1] (town itself; with Zhairem the town administration has 18,586)"),
    # Kostanay
    ("Zhitikara", "Kostanay", 34198, 2021, D21, de("https://de.wikiup.org/wiki/Schitiqara", "Schitiqara"),
     "Einwohner: | 34.198 (1. Jan. 2021)[1]"),
    ("Lisakovsk", "Kostanay", 31178, 2023, D23, de("https://dnhewrhegkli.shop/wiki/Lissakowsk", "Lissakowsk"),
     "Einwohner: 31.178 (1. Jan. 2023)[1]"),
    ("Tobyl", "Kostanay", 28453, 2023, D23, de("http://de.wikipedia.org/wiki/Satobolsk", "Tobyl"),
     "Einwohner: 28.453 (1. Jan. 2023)[1]"),
    ("Arkalyk", "Kostanay", 26365, 2021, D21,
     de("https://de.wikiup.org/index.php?oldid=226239814&title=Arqalyq", "Arqalyq"), "Einwohner: | 26.365 (1. Jan. 2021)[1]"),
    # Kyzylorda
    ("Aral", "Kyzylorda", 33861, 2021, D21, de("https://de.wikiup.org/wiki/Aralsk", "Aral (Kasachstan)"),
     "Einwohner: | 33.861 (1. Jan. 2021)[1]"),
    ("Kazaly", "Kyzylorda", 7428, 2023, D23,
     de("https://wikipedia.jakami.de/content/wikipedia_de_all_mini_2023-10/A/Qasaly", "Qasaly"),
     "Einwohner: | 7.428 (1. Jan. 2023)"),
    # Mangystau
    ("Fort-Shevchenko", "Mangystau", 6807, 2021, D21, de("https://de.wiki.li/Fort_Schewtschenko", "Fort Schewtschenko"),
     "Einwohner: 6.807 (1. Jan. 2021)[1]"),
    # North Kazakhstan
    ("Taiynsha", "North Kazakhstan", 13065, 2023, D23, de("https://dnhewrhegkli.shop/wiki/Tajynscha", "Tajynscha"),
     "Einwohner: | 13.065 (1. Jan. 2023)[1]"),
    ("Sergeevka", "North Kazakhstan", 7687, 2019, "2019",
     ru("https://perceptiofr.com/%D0%A1%D0%B5%D1%80%D0%B3%D0%B5%D0%B5%D0%B2%D0%BA%D0%B0_(%D0%A1%D0%B5%D0%B2%D0%B5%D1%80%D0%BE-"
        "%D0%9A%D0%B0%D0%B7%D0%B0%D1%85%D1%81%D1%82%D0%B0%D0%BD%D1%81%D0%BA%D0%B0%D1%8F_%D0%BE%D0%B1%D0%BB%D0%B0%D1%81%D1%82%D1%8C)",
        "Сергеевка (Северо-Казахстанская область)"),
     "Population | 7687 [1] personnes ( 2019 )"),
    ("Mamlyutka", "North Kazakhstan", 7038, 2023, D23,
     de("https://backend.710302.xyz:443/https/de.wikipedia.org/wiki/Mamljut", "Mamljut"), "Einwohner: | 7.038 (1. Jan. 2023)[1]"),
    # East Kazakhstan
    ("Ridder", "East Kazakhstan", 45859, 2021, CENSUS,
     de("http://a.dukovany.cz/index.php?q=aHR0cHM6Ly9kZS53aWtpcGVkaWEub3JnL3cvaW5kZXgucGhwP3RpdGxlPVJpZGRlciZhbXA7b2xkaWQ9MjQ4MDY3ODEz",
        "Ridder, oldid 248067813", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 45.859 Menschen in Ridder. (town itself; the town district had 52,057 on 1 Jan 2023)"),
    ("Altai", "East Kazakhstan", 36360, 2021, CENSUS,
     de("https://wikizero.org/wiki/de/Altai_(Kasachstan)", "Altai (Kasachstan)", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 36.360 Menschen in Altai."),
    ("Zaysan", "East Kazakhstan", 18430, 2021, CENSUS,
     de("https://speed.lescigales.org/xypor/index.php?q=aHR0cHM6Ly9kZS53aWtpcGVkaWEub3JnL3dpa2kvU2Fpc3NhbiNWZXJrZWhy",
        "Saissan", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 18.430 Menschen in Saissan."),
    ("Shemonaikha", "East Kazakhstan", 18211, 2018, "2018", ru("https://perceptiode.com/Шемонаиха", "Шемонаиха"),
     "Bevölkerung 18.211 [2] Personen ( 2018 )"),
    ("Serebryansk", "East Kazakhstan", 8429, 2019, "2019",
     ru("https://perceptiode.com/%D0%A1%D0%B5%D1%80%D0%B5%D0%B1%D1%80%D1%8F%D0%BD%D1%81%D0%BA", "Серебрянск"),
     "Bevölkerung | 8429 [2] Personen ( 2019 )"),
    # Abai
    ("Ayagoz", "Abai", 42351, 2021, CENSUS, de("https://dnhewrhegkli.shop/wiki/Ajag%C3%B6s", "Ajagös", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 42.351 Menschen in Ajagös."),
    ("Kurchatov", "Abai", 10457, 2023, D23,
     de("https://dnhewrhegkli.shop/wiki/Kurtschatow_(Kasachstan)", "Kurtschatow (Kasachstan)"),
     "Einwohner: | 10.457 (1. Jan. 2023)[1]"),
    ("Shar", "Abai", 6534, 2020, "2020-10-01", SRC_KAZPRAVDA,
     "Чарск (каз. Шар) – город в Жарминском районе Восточно-Казахстанской области. Там 6 534 человека. "
     "(Zharma district: Abai oblast since 2022-06-08)"),
    # Turkistan
    ("Zhetysai", "Turkistan", 44105, 2021, CENSUS, de("https://de.wikipedia.org/wiki/Schetissai", "Schetissai", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 44.105 Menschen in Schetissai."),
    ("Lenger", "Turkistan", 32622, 2021, CENSUS,
     de("http://de.wikipedia.info/wiki/Lenger_(Kasachstan)", "Lenger (Kasachstan)", CENSUS_NOTE),
     "Bei der letzten Volkszählung 2021 lebten 32.622 Menschen in Lenger."),
    ("Shardara", "Turkistan", 32107, 2023, D23, de("https://de.m.wikipedia.org./wiki/Schardara", "Schardara"),
     "Einwohner: | 32.107 (1. Jan. 2023)[1]"),
]


COLUMNS = ["town", "oblast", "stratum", "stratum_name", "population", "year", "reference_date",
           "status", "source", "quote_or_note"]


def oblast_strata(path=OBLAST_MAP):
    """oblast name -> stratum code, for the oblasts valid today (no ``valid_to``)."""
    with open(path, newline="", encoding="utf-8") as fh:
        out = {r["oblast"]: int(r["region_code"]) for r in csv.DictReader(fh) if not r["valid_to"]}
    out["Astana city"] = ASTANA_STRATUM
    return out


def _note(quote, year, date):
    """The quote plus what kind of figure it is (a census count or the latest official figure found)."""
    if date == CENSUS:
        return quote
    return f"{quote} [official figure of {date}, the latest found; no 2021 census count reached]"


def build_rows(towns=None):
    """One dict per town (COLUMNS), sorted by stratum then decreasing population."""
    towns = TOWNS + SMALL_TOWNS if towns is None else towns
    strata = oblast_strata()
    names = [t[0] for t in towns]
    if len(set(names)) != len(names):
        sys.exit("build_towns: a town is listed twice in TOWNS/SMALL_TOWNS")
    rows = []
    for town, oblast, pop, year, date, source, quote in towns:
        if oblast not in strata:
            sys.exit(f"build_towns: oblast {oblast!r} of {town} is not in oblast_map.csv")
        if not (isinstance(pop, int) and pop > 0):
            sys.exit(f"build_towns: population of {town} must be a positive whole number")
        if not (re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", date) and date[:4] == str(year)):
            sys.exit(f"build_towns: reference date {date!r} of {town} must be YYYY or YYYY-MM-DD of year {year}")
        rows.append({"town": town, "oblast": oblast, "stratum": strata[oblast],
                     "stratum_name": STRATA[strata[oblast]], "population": pop, "year": year,
                     "reference_date": date, "status": "sourced", "source": source,
                     "quote_or_note": _note(quote, year, date)})
    rows.sort(key=lambda r: (r["stratum"], -r["population"]))
    return rows


def write_atomic(rows, path=OUT):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


if __name__ == "__main__":
    out = build_rows()
    write_atomic(out)
    print(f"wrote {OUT}: {len(out)} towns, {sum(r['population'] for r in out):,} inhabitants")
