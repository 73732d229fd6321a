"""Build frames/towns_2021.csv: a frame of primary units (towns) for wave 3, every figure sourced.

Run:  python frames/build_towns.py   (from the repo root or from frames/)

One row per town with its population, the date of the figure, its oblast and the stratum the
oblast belongs to (``oblast_map.csv``; Astana -> Northern by default, as in build_frames.py).
Edit the TOWNS table below (never the CSV) and re-run.

Coverage (see frames/README.md, "towns_2021.csv"): every town with 50,000 inhabitants or more,
the 20 republican cities and oblast centres included.  The population is the 1 October 2021
census count where a source giving it was found, otherwise the latest official estimate found
(1 Jan 2023 or 1 Jan 2024, Bureau of National Statistics, as quoted by the source); ``year``
says which.  Towns under 50,000 (about 55 of the 88-90 towns with city status) and the
urban-type settlements are not in the file: no source reachable from here tabulates them.
"""
import csv
import os
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

# town, oblast (name as in oblast_map.csv), population, year, reference date, source, quote
CENSUS = "2021-10-01"
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
    ("Saryagash", "Turkistan", 62215, 2024, "2024-01-01", SRC_PARASAT, "Сарыагаш (Туркестанская область) – 62 215"),
    ("Zharkent", "Zhetisu", 53144, 2024, "2024-01-01", SRC_PARASAT, "Жаркент (область Жетысу) – 53 144"),
    ("Arys", "Turkistan", 52123, 2024, "2024-01-01", SRC_PARASAT, "Арысь (Туркестанская область) – 52 123"),
    ("Aksu", "Pavlodar", 51728, 2024, "2024-01-01", SRC_PARASAT, "Аксу (Павлодарская область) – 51 728"),
    ("Konaev", "Almaty oblast", 55198, 2023, "2023-01-01", SRC_KONAEV,
     "Einwohner: 55.198 (1. Jan. 2023) -- centre of Almaty oblast since 2022-06-08 (formerly Kapchagay)"),
]

COLUMNS = ["town", "oblast", "stratum", "stratum_name", "population", "year", "reference_date",
           "status", "source", "quote_or_note"]


def oblast_strata(path=OBLAST_MAP):
    """oblast name -> stratum code, for the oblasts valid today (no ``valid_to``)."""
    with open(path, newline="", encoding="utf-8") as fh:
        out = {r["oblast"]: int(r["region_code"]) for r in csv.DictReader(fh) if not r["valid_to"]}
    out["Astana city"] = ASTANA_STRATUM
    return out


def build_rows():
    strata = oblast_strata()
    names = [t[0] for t in TOWNS]
    if len(set(names)) != len(names):
        sys.exit("build_towns: a town is listed twice in TOWNS")
    rows = []
    for town, oblast, pop, year, date, source, quote in TOWNS:
        if oblast not in strata:
            sys.exit(f"build_towns: oblast {oblast!r} of {town} is not in oblast_map.csv")
        if not (isinstance(pop, int) and pop > 0):
            sys.exit(f"build_towns: population of {town} must be a positive whole number")
        note = quote if year == 2021 else f"{quote} [latest official figure found; no 2021 census count reached]"
        rows.append({"town": town, "oblast": oblast, "stratum": strata[oblast],
                     "stratum_name": STRATA[strata[oblast]], "population": pop, "year": year,
                     "reference_date": date, "status": "sourced", "source": source,
                     "quote_or_note": note})
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
