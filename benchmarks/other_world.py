#!/usr/bin/env python3
"""Independent synthetic generator of online escort-ad data (fully fictitious).

Written without reference to the system under test or its own generator, to
check that the linking does not merely recognise the patterns of one world.

Usage:
    python benchmarks/other_world.py OUT_DIR [--ads-per-day N] [--days D] [--seed S]

Writes OUT_DIR/crawl/ads-YYYY-MM-DD.jsonl (one line per ad seen that day: every
active ad is seen again each day) and OUT_DIR/truth/ads.jsonl (one line per ad).
Standard library only; deterministic for a given seed.  Every name, phone number,
handle and text is invented; texts are deliberately sober.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re

START = dt.date(2026, 5, 4)
SOURCES = [("petites-rdv", 0.5), ("annuaire-nuit", 0.3), ("rencontres-xyz", 0.2)]

# city, postcode, departement, weight
CITIES = [
    ("Paris", "75011", "75", 22),
    ("Lyon", "69003", "69", 9),
    ("Marseille", "13006", "13", 9),
    ("Lille", "59000", "59", 6),
    ("Toulouse", "31000", "31", 6),
    ("Nice", "06000", "06", 6),
    ("Bordeaux", "33000", "33", 5),
    ("Nantes", "44000", "44", 5),
    ("Strasbourg", "67000", "67", 4),
    ("Montpellier", "34000", "34", 4),
    ("Rennes", "35000", "35", 2),
    ("Grenoble", "38000", "38", 2),
    ("Dijon", "21000", "21", 1),
    ("Tours", "37000", "37", 1),
    ("Reims", "51100", "51", 1),
    ("Metz", "57000", "57", 1),
    ("Perpignan", "66000", "66", 1),
    ("Clermont-Ferrand", "63000", "63", 1),
    ("Rouen", "76000", "76", 1),
    ("Avignon", "84000", "84", 1),
    ("Cannes", "06400", "06", 1),
    ("Saint-Denis", "93200", "93", 1),
    ("Boulogne-Billancourt", "92100", "92", 1),
    ("Annecy", "74000", "74", 1),
    ("Orléans", "45000", "45", 1),
    ("Limoges", "87000", "87", 1),
]
PARIS_AREAS = ["Paris 8e", "Paris 15e", "Paris 17e", "75016", "Paris (Bastille)", "Paris 12"]

LATAM = {"BR", "CO", "VE", "PY", "DO", "PE"}
ORIGIN_SHOWN = {
    "FR": ["française", "FR", "Française"],
    "MA": ["marocaine", "orientale"],
    "DZ": ["algérienne", "orientale"],
    "RO": ["roumaine", "de l'Est"],
    "BG": ["bulgare", "de l'Est"],
    "BR": ["Brésilienne", "latina", "brésilienne"],
    "CO": ["colombienne", "latina"],
    "VE": ["vénézuélienne", "latina"],
    "PY": ["paraguayenne", "latina"],
    "NG": ["africaine", "nigériane"],
    "CN": ["asiatique", "chinoise"],
    "ES": ["espagnole"],
    "UA": ["ukrainienne", "de l'Est"],
    "DO": ["dominicaine", "latina"],
    "CI": ["ivoirienne", "africaine"],
}
# Small skewed given-name pools per origin (first names are far more frequent).
NAMES = {
    "FR": [
        "Léa",
        "Manon",
        "Camille",
        "Chloé",
        "Julie",
        "Laura",
        "Sarah",
        "Océane",
        "Emma",
        "Marine",
        "Pauline",
        "Anaïs",
        "Clara",
        "Justine",
        "Elodie",
        "Margaux",
        "Lucie",
        "Mélanie",
    ],
    "MA": ["Yasmine", "Salma", "Nora", "Imane", "Sofia", "Lina", "Kenza"],
    "DZ": ["Amel", "Lina", "Yasmine", "Sabrina", "Nadia", "Ryma"],
    "RO": ["Andreea", "Ioana", "Alina", "Bianca", "Elena", "Denisa", "Roxana", "Larisa"],
    "BG": ["Maria", "Desislava", "Petya", "Elena", "Viktoria"],
    "BR": ["Bruna", "Larissa", "Camila", "Julia", "Gabriela", "Thais", "Leticia", "Bianca"],
    "CO": ["Valentina", "Daniela", "Camila", "Paola", "Manuela", "Sara"],
    "VE": ["Andrea", "Daniela", "Mariangel", "Valeria", "Yuleisy"],
    "PY": ["Luz", "Rocio", "Noelia", "Fatima", "Camila"],
    "NG": ["Blessing", "Joy", "Precious", "Mercy", "Favour", "Gift", "Faith"],
    "CN": ["Lily", "Mimi", "Coco", "Yuki", "Lin", "Mei"],
    "ES": ["Lucia", "Carmen", "Paula", "Alba"],
    "UA": ["Anastasia", "Oksana", "Katya", "Yulia"],
    "DO": ["Yokasta", "Esmeralda", "Rosanna"],
    "CI": ["Aïcha", "Awa", "Mariam", "Fanta"],
}
IND_ORIGINS = [
    ("FR", 62),
    ("MA", 5),
    ("DZ", 5),
    ("BR", 6),
    ("CO", 3),
    ("RO", 3),
    ("ES", 3),
    ("UA", 3),
    ("CI", 3),
    ("VE", 2),
    ("CN", 2),
    ("DO", 1),
    (None, 2),
]
PIMP_ORIGINS = [
    ("FR", 40),
    ("RO", 12),
    ("MA", 10),
    ("DZ", 10),
    ("BR", 8),
    ("BG", 6),
    ("NG", 6),
    ("UA", 4),
    ("CO", 4),
]
NET_COMMUNITIES = [
    ("RO", 28),
    ("NG", 22),
    ("CN", 14),
    ("BR", 12),
    ("CO", 8),
    ("VE", 6),
    ("BG", 6),
    ("PY", 4),
]

EMOJI = ["🌸", "✨", "💋", "🌹", "💕", "😘", "🔥", "🌺", "⭐", "🍒", "💎", "☀️"]

# ---------------------------------------------------------------- helpers


def wchoice(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for v, w in pairs:
        x -= w
        if x < 0:
            return v
    return pairs[-1][0]


def zipf_pick(rng, pool, s=1.1):
    return wchoice(rng, [(v, 1.0 / (i + 1) ** s) for i, v in enumerate(pool)])


def pick_city(rng):
    return wchoice(rng, [(c, c[3]) for c in CITIES])


def show_location(rng, city):
    name, pc, dep, _ = city
    r = rng.random()
    if name == "Paris" and r < 0.3:
        return rng.choice(PARIS_AREAS)
    if r < 0.45:
        return name
    if r < 0.65:
        return pc
    if r < 0.8:
        return f"{name} ({dep})"
    if r < 0.9:
        return f"{name} centre"
    return f"{name}, {pc}"


# French mobile ranges an operator can assign (ARCEP's plan as libphonenumber encodes it):
# 06 except 063 9 and 069 0-4/6/7, and 073-079. A line outside them cannot be called.
ASSIGNABLE_MOBILE = re.compile(r"(?:6(?:[0-24-8]\d|3[0-8]|9[589])|7[3-9]\d)\d{6}")


def new_phone(rng, used):
    while True:
        p = "+33" + rng.choice("67") + "".join(rng.choice("0123456789") for _ in range(8))
        if ASSIGNABLE_MOBILE.fullmatch(p[3:]) and p not in used:
            used.add(p)
            return p


WORDS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]


def fmt_phone(rng, e164, style=None):
    """Show a +33 phone in one of many ways, some obfuscated."""
    nat = "0" + e164[3:]
    pairs = [nat[i : i + 2] for i in range(0, 10, 2)]
    style = style if style is not None else rng.randrange(10)
    if style == 0:
        return " ".join(pairs)
    if style == 1:
        return nat
    if style == 2:
        return ".".join(pairs)
    if style == 3:
        return "+33 " + nat[1] + " " + " ".join(pairs[1:])
    if style == 4:
        return e164
    if style == 5:  # spelled first digits
        return f"{WORDS[0]} {WORDS[int(nat[1])]} " + " ".join(pairs[1:])
    if style == 6:
        return "-".join(pairs)
    if style == 7:  # letter-for-digit
        return " ".join(pairs).replace("0", "O").replace("1", "l")
    if style == 8:
        return " ".join(nat)
    return f"{nat[:2]} {nat[2:4]} {nat[4:6]} .. {nat[6:8]} {nat[8:]}".replace(" .. ", " ")


def show_age(rng, age):
    return rng.choice([age, f"{age} ans", f"{age}yo", f"{age} ans", str(age), f"{age}a"])


# A messaging service gives each handle to one account: handles already given out.
TAKEN_HANDLES: set[str] = set()


def handle_for(rng, name, city=None):
    base = name.lower().replace("ï", "i").replace("é", "e").replace("ë", "e").replace(" ", "")
    tail = rng.choice(
        [
            str(rng.randint(1, 99)),
            city[2] if city else "x",
            "_off",
            "vip",
            "_" + str(rng.randint(100, 999)),
        ]
    )
    return unique_handle(rng, base + rng.choice(["", "_", "."]) + tail)


def unique_handle(rng, handle):
    """``handle``, or with digits added if an account already holds it: one account per
    handle (or e-mail address), as on every real service."""
    while handle in TAKEN_HANDLES:  # taken: the service offers digits, as real ones do
        handle += str(rng.randint(0, 9))
    TAKEN_HANDLES.add(handle)
    return handle


def price_str(rng, base):
    half = int(base * rng.choice([0.6, 0.65, 0.7]) / 10) * 10
    return rng.choice(
        [
            f"{base}/1h {half}/30min",
            f"1h {base}",
            f"{half} la demi-heure, {base} l'heure",
            f"{base}€ 1h",
            f"30min {half}€ - 1h {base}€",
            f"{base} roses",
        ]
    )


# ---------------------------------------------------------------- text builders

IND_PARTS = {
    "hello": ["Bonjour", "Coucou", "Hello", "Bonsoir", "Salut", "Bienvenue"],
    "me": [
        "je suis {name}",
        "moi c'est {name}",
        "je m'appelle {name}",
        "{name} ici",
        "c'est {name}",
    ],
    "desc": [
        "jeune femme douce et souriante",
        "femme élégante et cultivée",
        "brune naturelle au caractère joyeux",
        "blonde pétillante",
        "étudiante discrète",
        "femme simple et attentionnée",
        "métisse au sourire doux",
        "rousse pleine d'humour",
        "femme mature et posée",
        "sportive et bavarde",
    ],
    "meet": [
        "Je reçois dans un appartement calme et discret",
        "Je me déplace uniquement à l'hôtel",
        "Je reçois ou je me déplace selon vos envies",
        "Appartement privé, propre, parking à proximité",
        "Rencontres uniquement sur rendez-vous",
        "Je vous accueille dans un cadre cosy",
    ],
    "rule": [
        "Pas de numéro masqué",
        "Hommes courtois uniquement",
        "Hygiène irréprochable exigée",
        "Prévenez 30 min avant",
        "Pas de SMS, appels seulement",
        "Je choisis mes rendez-vous",
        "Merci de rester respectueux",
        "Pas de négociation",
    ],
    "contact": [
        "Appelez-moi au {ph}",
        "Mon numéro : {ph}",
        "Joignable au {ph}",
        "Contact {ph}",
        "Tél {ph}",
        "Pour me joindre : {ph}",
        "📞 {ph}",
    ],
    "indep": [
        "indépendante",
        "je travaille seule",
        "sans intermédiaire",
        "je gère mon agenda moi-même",
        "",
    ],
    "tour": [
        "De passage à {city} cette semaine",
        "En tournée : {city} pour quelques jours",
        "Nouvelle sur {city}, seulement quelques jours",
        "Je suis à {city} jusqu'à dimanche",
    ],
}


class IndStyle:
    def __init__(self, rng):
        self.parts = {k: rng.choice(v) for k, v in IND_PARTS.items()}
        self.order = rng.sample(["desc", "meet", "rule", "indep"], 4)
        self.emoji = rng.sample(EMOJI, 2) if rng.random() < 0.4 else []
        self.sep = rng.choice([". ", ". ", " - ", " ! ", "\n", " ~ "])
        self.upper_title = rng.random() < 0.15
        self.phone_style = rng.randrange(10)
        self.phone_in_text = rng.random() < 0.7
        self.title_kind = rng.randrange(4)


def ind_text(rng, st, name, age, city, touring, real_name, ph_txt):
    p = st.parts
    bits = [f"{p['hello']}, {p['me'].format(name=name)}, {age} ans"]
    if real_name:
        bits[0] += rng.choice(
            [
                f" (mon vrai prénom est {real_name})",
                f" (ou {real_name})",
                f", {real_name} pour les habitués",
            ]
        )
    for k in st.order:
        if p[k]:
            bits.append(p[k][0].upper() + p[k][1:])
    if touring:
        bits.insert(1, p["tour"].format(city=city[0]))
    if ph_txt:
        bits.append(p["contact"].format(ph=ph_txt))
    txt = st.sep.join(bits)
    if st.emoji:
        txt = st.emoji[0] + " " + txt + " " + st.emoji[1]
    titles = [
        f"{name} {age} ans",
        f"{name} - {city[0]}",
        f"Rencontre avec {name}",
        f"{p['desc'].split(' ')[0].capitalize()} {p['desc'].split(' ')[1]} sur {city[0]}",
    ]
    title = titles[st.title_kind]
    if touring:
        title = rng.choice(["De passage ", "Tournée ", "Nouvelle "]) + city[0] + " - " + name
    return (title.upper() if st.upper_title else title), txt


PIMP_OPEN = [
    "Nouvelle sur {city} ! {name}, {age} ans",
    "Je vous présente {name}, {age} ans",
    "{name} ({age}) vient d'arriver",
    "Ma copine {name}, {age} ans, est disponible",
    "Découvrez {name}, jolie {age} ans",
    "{name} est là pour quelques jours",
]
PIMP_MID = [
    "Elle reçoit dans un appartement discret",
    "Elle se déplace aussi à l'hôtel",
    "Elle est douce et très gentille",
    "Elle parle un peu français",
    "Elle est disponible jour et nuit",
    "Elle vous attend près de la gare",
    "Avec son amie {other} si vous le souhaitez",
    "Elle ne répond pas elle-même au téléphone",
]
PIMP_CONTACT = [
    "Réservation auprès de son ami au {ph}",
    "Rdv par son secrétaire : {ph}",
    "Appelez le {ph} pour elle",
    "Contact pour elle : {ph}",
    "Prendre rendez-vous au {ph}",
    "Infos et rdv {ph}",
]


class PimpStyle:
    def __init__(self, rng):
        self.open = rng.choice(PIMP_OPEN)
        self.mids = rng.sample(PIMP_MID, 3)
        self.contact = rng.choice(PIMP_CONTACT)
        self.emoji = rng.choice(EMOJI) if rng.random() < 0.6 else ""
        self.sep = rng.choice([". ", " ! ", "\n", " • "])
        self.phone_style = rng.randrange(10)


# Per-community template pools: distinct networks of one community reuse these.
NET_TEMPLATES = {
    "RO": [
        "NOUVELLE {city} !! {name} {age} ans, fille de l'Est très douce, disponible 24/24. Appelle vite {ph} {e}",
        "{e} {name} {age}ans nouvelle à {city}, reçoit en privé, toutes les envies respectées. Tel {ph}",
        "Fille de l'Est {name}, {age} ans, juste arrivée {city}. Disponible maintenant, appelle-moi {ph}",
    ],
    "BG": [
        "{name} {age} ans, jolie bulgare à {city}. Disponible tout de suite. {ph} {e}",
        "Nouvelle {city} - {name} {age} - belle fille douce, appelle {ph}",
    ],
    "NG": [
        "Hello my love, I am {name} {age} years, new in {city}. Call me {ph} {e}",
        "{e} Sweet {name} {age} ans, jolie africaine, nouvelle à {city}, disponible. Call/WhatsApp {ph}",
        "New girl {name} in {city}, {age} years, very nice, appelle {ph}",
    ],
    "CN": [
        "{e} Nouvelle masseuse asiatique {name} {age} ans à {city}, très douce. RDV {ph}",
        "Jolie asiatique {name}, {age} ans, {city}, salon privé, 10h-22h. Tél {ph}",
        "{name} {age}ans nouvelle {city}, massage relaxant, appelez {ph} {e}",
    ],
    "BR": [
        "{e} {name} brésilienne {age} ans, nouvelle à {city} !! Corps de rêve, très câline. WhatsApp {ph}",
        "Brésilienne {name} {age} ans de passage à {city}, disponible. Chama {ph} {e}",
        "Nova {name}, {age} anos, brésilienne à {city}. Appelle {ph}",
    ],
    "CO": [
        "{e} Colombienne {name} {age} ans juste arrivée à {city}, très sensuelle. Llámame {ph}",
        "Latina {name}, {age}, nouvelle {city} quelques jours seulement. {ph} {e}",
    ],
    "VE": [
        "Latina {name} {age} ans, vénézuélienne, {city} pour peu de temps. WhatsApp {ph} {e}",
        "{e} Nueva {name} {age} años, latina à {city}, appelle {ph}",
    ],
    "PY": [
        "{name} latina {age} ans nouvelle {city}, très douce. {ph} {e}",
        "Nouvelle latina à {city}: {name}, {age} ans, disponible. Tel {ph}",
    ],
}
NET_TITLES = [
    "NOUVELLE {city} {name} {age}",
    "{name} {age} ans {city}",
    "{e} {name} nouvelle {city} {e}",
    "Nouvelle fille {city}",
    "{name} - disponible {city}",
]

SCAM_NAMES = [
    "Jessica",
    "Amandine",
    "Océane",
    "Sabrina",
    "Melissa",
    "Laetitia",
    "Vanessa",
    "Cindy",
    "Kelly",
    "Jennifer",
]
SCAM_SCRIPTS = [
    "Bonjour je suis {name}, {age} ans, femme sérieuse à {city}. Je ne prends que les hommes sérieux : {pay} avant le rendez-vous pour confirmer. Contact uniquement {contact}.",
    "{name} {age} ans, disponible à {city}. Pour éviter les faux plans je demande {pay}. Écrivez-moi sur {contact}, je ne réponds pas aux appels.",
    "Coucou, {name} ici, {age} ans. Nouvelle sur {city}. Avant de se voir, {pay}, c'est ma garantie. Me contacter par {contact} seulement.",
    "Belle femme {name}, {age} ans, {city}. Rendez-vous confirmé après {pay}. Uniquement par message : {contact}.",
    "Je m'appelle {name} ({age} ans) et je suis à {city}. Pas de téléphone, seulement {contact}. Garantie : {pay}.",
    "{name}, {age}, vraie photo. {city} et alentours. Le rdv est validé après {pay}. Écrire à {contact}.",
]
SCAM_PAY = [
    "un coupon PCS de 50€",
    "une recharge Transcash",
    "un code Neosurf à m'envoyer",
    "une carte Toneo First de 100€",
    "des tickets PCS (photo du code)",
    "un coupon prépayé de 50 euros",
    "l'envoi d'un code de recharge Paysafecard",
    "une avance en carte cadeau prépayée",
]


# ---------------------------------------------------------------- world model


class Controller:
    def __init__(self, cid, kind, start, end):
        self.cid, self.kind, self.start, self.end = cid, kind, start, end
        self.persons = []  # dicts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--ads-per-day", type=int, default=300, help="new ads posted per day")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    TAKEN_HANDLES.clear()
    D, N = a.days, a.ads_per_day

    used_phones: set[str] = set()
    ad_seq = {s: rng.randint(100000, 900000) for s, _ in SOURCES}
    ctrls = {"independent": [], "pimp": [], "network": [], "scam": []}
    counters = {"independent": 0, "pimp": 0, "network": 0, "scam": 0}
    prefix = {"independent": "I", "pimp": "P", "network": "N", "scam": "S"}
    released = []  # (day_free, phone) phones of retired independents
    stats = {
        "recycled_phones": 0,
        "alias_independents": 0,
        "touring_independents": 0,
        "minor_persons": 0,
        "networks_per_community": {},
    }
    ads = []  # each: dict(meta, content, start, end)

    def victim(pid, origin, minor_share, oldest):
        """A person a pimp or a network advertises: a minor (stated 18 or 19) for
        ``minor_share`` of them, else an adult of 19 to ``oldest``."""
        minor = rng.random() < minor_share
        stats["minor_persons"] += minor
        return dict(
            pid=pid,
            origin=origin,
            name=zipf_pick(rng, NAMES[origin]),
            age=rng.randint(18, 19) if minor else rng.randint(19, oldest),
            minor=minor,
        )

    def new_ctrl(kind, day):
        counters[kind] += 1
        cid = f"{prefix[kind]}{counters[kind]:05d}"
        life = {
            "independent": rng.randint(1, D + 3),
            "pimp": rng.randint(3, D + 5),
            "network": rng.randint(4, D + 10),
            "scam": rng.randint(2, D),
        }[kind]
        c = Controller(cid, kind, day, day + life)
        c.source = wchoice(rng, SOURCES)
        if kind == "independent":
            origin = wchoice(rng, IND_ORIGINS)
            nm_pool = NAMES.get(origin or "FR", NAMES["FR"])
            phone = None
            free = [p for p in released if p[0] <= day]
            if free and rng.random() < 0.04:
                item = rng.choice(free)
                released.remove(item)
                phone = item[1]
                stats["recycled_phones"] += 1
            phone = phone or new_phone(rng, used_phones)
            c.style = IndStyle(rng)
            c.home = pick_city(rng)
            c.touring = rng.random() < 0.15
            stats["touring_independents"] += c.touring
            person = dict(
                pid=f"{cid}:0",
                origin=origin,
                name=zipf_pick(rng, nm_pool),
                age=rng.randint(19, 29) if rng.random() < 0.8 else rng.randint(30, 45),
                minor=False,
                phone=phone,
            )
            c.alias = None
            if rng.random() < 0.04:
                c.alias = zipf_pick(rng, NAMES["FR"])
                if c.alias == person["name"]:
                    c.alias = rng.choice(NAMES["FR"][5:])
                stats["alias_independents"] += 1
            c.base_price = rng.choice([100, 120, 150, 150, 180, 200, 200, 250, 300])
            c.handle = handle_for(rng, person["name"], c.home) if rng.random() < 0.3 else None
            c.persons.append(person)
        elif kind == "pimp":
            origin = wchoice(rng, PIMP_ORIGINS)
            c.style = PimpStyle(rng)
            c.phones = [new_phone(rng, used_phones) for _ in range(rng.choice([1, 1, 2]))]
            c.home = pick_city(rng)
            c.base_price = rng.choice([100, 120, 150, 200])
            for k in range(rng.randint(2, 4)):
                o = origin if rng.random() < 0.7 else wchoice(rng, PIMP_ORIGINS)
                c.persons.append(victim(f"{cid}:{k}", o, 0.15, 28))
        elif kind == "network":
            comm = wchoice(rng, NET_COMMUNITIES)
            stats["networks_per_community"][comm] = stats["networks_per_community"].get(comm, 0) + 1
            c.comm = comm
            pool = NET_TEMPLATES[comm]
            c.templates = rng.sample(pool, min(len(pool), rng.choice([1, 2])))
            c.phones = [new_phone(rng, used_phones) for _ in range(rng.randint(3, 5))]
            c.cities = [CITIES[0]] + [pick_city(rng) for _ in range(rng.randint(2, 4))]
            rng.shuffle(c.cities)
            c.handle = rng.choice(["t.me/", "telegram: @", "snap: "]) + unique_handle(
                rng,
                rng.choice(["agence", "vip", "girls", "new", "love"])
                + "_"
                + c.cities[0][2]
                + str(rng.randint(10, 99)),
            )
            c.emoji = rng.choice(EMOJI)
            c.base_price = rng.choice([80, 100, 120, 150])
            for k in range(rng.randint(6, 12)):
                c.persons.append(victim(f"{cid}:{k}", comm, 0.07, 27))
        else:  # scam
            c.scripts = rng.sample(SCAM_SCRIPTS, rng.randint(2, 3))
            mail_dom = rng.choice(["exemple-mail.fr", "mail.example", "courriel.example.org"])
            c.wa = new_phone(rng, used_phones)
            c.base_price = rng.choice([100, 150, 200])
            for k in range(rng.randint(2, 5)):
                nm = zipf_pick(rng, SCAM_NAMES, 0.8)
                c.persons.append(
                    dict(
                        pid=f"{cid}:{k}",
                        origin=None,
                        name=nm,
                        age=rng.randint(20, 29),
                        minor=False,
                        email=unique_handle(
                            rng,
                            f"{nm.lower()}{rng.choice(['.', '_', ''])}{rng.randint(10, 9999)}",
                        )
                        + f"@{mail_dom}",
                        tg="t.me/"
                        + unique_handle(
                            rng,
                            f"{nm.lower()}_{rng.choice(['rdv', 'reel', 'officiel', 'vraie'])}{rng.randint(1, 99)}",
                        ),
                    )
                )
        ctrls[kind].append(c)
        return c

    def pick_ctrl(kind, day, p_new):
        active = [c for c in ctrls[kind][-400:] if c.start <= day <= c.end]
        if not active or rng.random() < p_new:
            return new_ctrl(kind, day)
        return rng.choice(active)

    for day in range(D):
        # release phones of retired independents (reusable after a gap of 3+ days)
        for c in ctrls["independent"]:
            if c.end == day - 1:
                released.append((day + rng.randint(3, 6), c.persons[0]["phone"]))
        for _ in range(N):
            kind = wchoice(rng, [("independent", 80), ("pimp", 7), ("network", 9), ("scam", 4)])
            p_new = {"independent": 0.55, "pimp": 0.15, "network": 0.05, "scam": 0.1}[kind]
            c = pick_ctrl(kind, day, p_new)
            ads.append(make_ad(rng, c, day, ad_seq))

    # ---- write
    os.makedirs(os.path.join(a.out_dir, "crawl"), exist_ok=True)
    os.makedirs(os.path.join(a.out_dir, "truth"), exist_ok=True)
    with open(os.path.join(a.out_dir, "truth", "ads.jsonl"), "w", encoding="utf-8") as f:
        for ad in ads:
            f.write(json.dumps(ad["truth"], ensure_ascii=False) + "\n")
    lines_per_day = []
    for day in range(D):
        date = START + dt.timedelta(days=day)
        todays = [ad for ad in ads if ad["start"] <= day <= ad["end"]]
        todays.sort(key=lambda ad: (ad["start"], ad["truth"]["ad_id"]))
        t0 = dt.datetime.combine(date, dt.time(5, 0), tzinfo=dt.UTC)
        with open(
            os.path.join(a.out_dir, "crawl", f"ads-{date.isoformat()}.jsonl"), "w", encoding="utf-8"
        ) as f:
            for i, ad in enumerate(todays):
                rec = dict(ad["content"])
                if day > ad["start"] and ad.get("edit_day") is not None and day >= ad["edit_day"]:
                    rec["price"] = ad["edit_price"]
                seen = t0 + dt.timedelta(
                    seconds=int(i * 50000 / max(1, len(todays))) + rng.randint(0, 9)
                )
                rec = {
                    "ad_id": ad["truth"]["ad_id"],
                    "source": ad["truth"]["source"],
                    "seen_at": seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    **rec,
                }
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        lines_per_day.append(len(todays))
    kinds = {}
    for ad in ads:
        kinds[ad["truth"]["controller_kind"]] = kinds.get(ad["truth"]["controller_kind"], 0) + 1
    summary = {
        "ads": len(ads),
        "ads_per_kind": kinds,
        "controllers_per_kind": {k: len(v) for k, v in ctrls.items()},
        "crawl_lines": sum(lines_per_day),
        **stats,
    }
    print(json.dumps(summary, ensure_ascii=False))


def make_ad(rng, c, day, ad_seq):
    source = c.source if rng.random() < 0.85 else wchoice(rng, SOURCES)
    ad_seq[source] += rng.randint(1, 7)
    ad_id = f"{source[:2]}{ad_seq[source]}"
    date = START + dt.timedelta(days=day)
    posted = rng.choice(
        [
            date.isoformat(),
            f"{date.isoformat()}T{rng.randint(0, 6):02d}:{rng.randint(0, 59):02d}:00+02:00",
        ]
    )
    content = {"url": f"https://{source}.example/annonce/{ad_id}", "posted_at": posted}
    kind = c.kind
    person = rng.choice(c.persons)
    if kind == "independent":
        st = c.style
        city = c.home
        touring = False
        if c.touring and rng.random() < 0.6:
            city, touring = pick_city(rng), True
        name, real = person["name"], None
        if c.alias and rng.random() < 0.6:
            name = c.alias
            real = person["name"] if rng.random() < 0.7 else None
        ph = person["phone"]
        ph_txt = fmt_phone(rng, ph, st.phone_style) if st.phone_in_text else None
        title, text = ind_text(rng, st, name, person["age"], city, touring, real, ph_txt)
        links = []
        if c.handle:
            links.append(rng.choice(["snap: ", "insta: ", "t.me/"]) + c.handle)
        if rng.random() < 0.15:
            links.append("WhatsApp: " + fmt_phone(rng, ph, 3))
        o = person["origin"]
        content.update(
            title=title,
            text=text,
            name=name,
            age=show_age(rng, person["age"]),
            origin=(rng.choice(ORIGIN_SHOWN[o]) if o and rng.random() < 0.4 else None),
            location=show_location(rng, city),
            phone=(
                fmt_phone(rng, ph, rng.choice([0, 1, 4]))
                if (not st.phone_in_text or rng.random() < 0.4)
                else None
            ),
            links=links or None,
            price=price_str(rng, c.base_price),
        )
    elif kind == "pimp":
        st = c.style
        city = c.home if rng.random() < 0.8 else pick_city(rng)
        ph = rng.choice(c.phones)
        others = [p["name"] for p in c.persons if p is not person] or ["Nina"]
        bits = [st.open.format(city=city[0], name=person["name"], age=person["age"])]
        bits += [m.format(other=rng.choice(others)) for m in st.mids]
        bits.append(st.contact.format(ph=fmt_phone(rng, ph, st.phone_style)))
        text = st.sep.join(bits)
        if st.emoji:
            text = f"{st.emoji} {text}"
        o = person["origin"]
        content.update(
            title=rng.choice(
                [
                    f"{person['name']} {person['age']} ans",
                    f"Nouvelle à {city[0]}",
                    f"{person['name']} disponible {city[0]}",
                ]
            ),
            text=text,
            name=person["name"],
            age=show_age(rng, person["age"]),
            origin=(rng.choice(ORIGIN_SHOWN[o]) if rng.random() < 0.5 else None),
            location=show_location(rng, city),
            phone=(fmt_phone(rng, ph, rng.choice([0, 1])) if rng.random() < 0.5 else None),
            links=None,
            price=price_str(rng, c.base_price),
        )
    elif kind == "network":
        k = c.persons.index(person)
        city = c.cities[(day // 3 + k) % len(c.cities)]
        ph = c.phones[(day + k) % len(c.phones)]
        tpl = rng.choice(c.templates)
        e = c.emoji if rng.random() < 0.7 else rng.choice(EMOJI)
        text = tpl.format(
            name=person["name"],
            age=person["age"],
            city=city[0],
            ph=fmt_phone(rng, ph, rng.choice([0, 1, 2, 4])),
            e=e,
        ).strip()
        title = (
            rng.choice(NET_TITLES)
            .format(name=person["name"], age=person["age"], city=city[0], e=e)
            .strip()
        )
        links = [c.handle] if rng.random() < 0.6 else []
        if rng.random() < 0.4:
            links.append("WhatsApp: " + fmt_phone(rng, ph, 4))
        content.update(
            title=title,
            text=text,
            name=person["name"],
            age=show_age(rng, person["age"]),
            origin=rng.choice(ORIGIN_SHOWN[c.comm]) if rng.random() < 0.6 else None,
            location=show_location(rng, city),
            phone=(fmt_phone(rng, ph, 1) if rng.random() < 0.5 else None),
            links=links or None,
            price=price_str(rng, c.base_price),
        )
    else:  # scam
        city = pick_city(rng)
        via = rng.random()
        if via < 0.4:
            contact = person["email"]
        elif via < 0.7:
            contact = "Telegram " + person["tg"]
        else:
            contact = "WhatsApp " + fmt_phone(rng, c.wa, rng.choice([3, 4]))
        text = rng.choice(c.scripts).format(
            name=person["name"],
            age=person["age"],
            city=city[0],
            pay=rng.choice(SCAM_PAY),
            contact=contact,
        )
        links = [person["tg"]] if rng.random() < 0.5 else []
        if via >= 0.7 or rng.random() < 0.2:
            links.append("WhatsApp: " + fmt_phone(rng, c.wa, 4))
        content.update(
            title=rng.choice(
                [
                    f"{person['name']} {person['age']} ans - vraie photo",
                    f"{person['name']} sur {city[0]}",
                    f"Femme sérieuse {city[0]}",
                    f"{person['name']}, {person['age']} ans",
                ]
            ),
            text=text,
            name=person["name"],
            age=show_age(rng, person["age"]),
            origin=None,
            location=show_location(rng, city),
            phone=None,
            email=person["email"] if rng.random() < 0.5 else None,
            links=links or None,
            price=price_str(rng, c.base_price),
        )
    life = {
        "independent": rng.randint(2, 8),
        "pimp": rng.randint(1, 5),
        "network": rng.randint(1, 3),
        "scam": rng.randint(1, 6),
    }[kind]
    origin = person["origin"]
    truth = {
        "source": source,
        "ad_id": ad_id,
        "controller": c.cid,
        "controller_kind": kind,
        "person": person["pid"],
        "minor": person["minor"],
        "origin": origin,
        "origin_group": "unknown"
        if origin is None
        else ("french" if origin == "FR" else "foreign"),
        "latin_america": origin in LATAM,
    }
    end = day + life - 1
    if kind == "independent":  # her ads stop when she does, so a recycled phone never overlaps
        end = max(day, min(end, c.end))
    ad = {"truth": truth, "content": content, "start": day, "end": end}
    if end - day >= 2 and rng.random() < 0.15:
        ad["edit_day"] = day + rng.randint(1, end - day)
        ad["edit_price"] = price_str(rng, c.base_price + rng.choice([-20, 20, 50]))
    return ad


if __name__ == "__main__":
    main()
