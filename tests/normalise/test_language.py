"""Language detection on short synthetic ad texts."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise import language
from faisceau.normalise.language import detect_language

CANDIDATES = json.loads(
    resources.files("faisceau.normalise").joinpath("data", "language.json").read_text("utf-8")
)["candidates"]

# Invented ad texts, one line each, in the languages ads on the watched sites use.
SAMPLES = [
    ("fr", "Nouvelle à Lyon, douce et souriante, je vous reçois dans un cadre discret."),
    ("fr", "Bonjour messieurs, disponible ce soir, appelez-moi pour plus d'informations."),
    ("fr", "Jeune femme brune, massage relaxant, uniquement sur rendez-vous."),
    ("fr", "Je suis de passage pour quelques jours seulement, contactez moi par SMS."),
    ("fr", "Pas de numéro masqué. Hygiène irréprochable exigée, merci de votre compréhension."),
    ("fr", "Reçoit en appartement privé près de la gare, parking facile."),
    ("fr", "coucou je suis dispo tous les jours de 10h a 22h bisous"),
    ("fr", "Étudiante sympathique, photos réelles, pas de mauvaises surprises"),
    ("en", "New in town, sweet and friendly, available for incall and outcall."),
    ("en", "Hello gentlemen, I am available tonight, text me for more details."),
    ("en", "Real pictures, no games, discreet apartment near the station."),
    ("en", "Relaxing massage by appointment only, please call before coming."),
    ("en", "Just visiting for a few days, don't miss me! No private numbers."),
    ("en", "hi guys im here all week, message me on whatsapp for info"),
    ("en", "Elegant companion for dinner dates and evenings, very discreet."),
    ("es", "Nueva en la ciudad, cariñosa y simpática, te espero en mi piso."),
    ("es", "Hola cariño, estoy disponible esta noche, llámame para más información."),
    ("es", "Chica latina muy dulce, masajes relajantes, solo con cita previa."),
    ("es", "Fotos reales, sin sorpresas, ambiente discreto y limpio."),
    ("es", "Estoy de paso solo por unos días, escríbeme por WhatsApp."),
    ("es", "hola amor soy nueva aqui llamame no contesto numeros ocultos"),
    ("es", "Atiendo en apartamento privado cerca del centro, fácil aparcamiento."),
    ("pt", "Nova na cidade, carinhosa e simpática, atendo em local discreto."),
    ("pt", "Olá querido, estou disponível hoje à noite, me liga para mais informações."),
    ("pt", "Morena brasileira muito meiga, massagem relaxante, só com hora marcada."),
    ("pt", "Fotos reais, sem surpresas, ambiente tranquilo e limpo."),
    ("pt", "Estou de passagem por poucos dias, manda mensagem no WhatsApp."),
    ("pt", "oi amor sou novinha aqui me chama no zap beijos"),
    ("pt", "Atendo em apartamento privado perto da estação, com estacionamento."),
    ("ro", "Nouă în oraș, drăguță și prietenoasă, te aștept într-un loc discret."),
    ("ro", "Bună ziua, sunt disponibilă în seara asta, sună-mă pentru mai multe detalii."),
    ("ro", "Fată tânără, masaj relaxant, doar cu programare."),
    ("ro", "Poze reale, fără surprize, apartament curat și liniștit."),
    ("ro", "Sunt aici doar câteva zile, scrie-mi pe WhatsApp."),
    ("ro", "salut sunt noua aici, astept mesajul tau, pupici"),
    ("it", "Nuova in città, dolce e simpatica, ti aspetto in un ambiente riservato."),
    ("it", "Ciao tesoro, sono disponibile stasera, chiamami per maggiori informazioni."),
    ("it", "Ragazza mora, massaggio rilassante, solo su appuntamento."),
    ("it", "Foto reali, nessuna sorpresa, appartamento pulito e tranquillo."),
    ("it", "Sono di passaggio solo per pochi giorni, scrivimi su WhatsApp."),
    ("it", "ciao amore sono nuova qui non rispondo ai numeri privati baci"),
    ("de", "Neu in der Stadt, süß und freundlich, ich empfange dich diskret."),
    ("de", "Hallo meine Herren, ich bin heute Abend verfügbar, ruf mich an."),
    ("de", "Junge Frau, entspannende Massage, nur nach Terminvereinbarung."),
    ("de", "Echte Fotos, keine Überraschungen, saubere und ruhige Wohnung."),
    ("de", "Ich bin nur ein paar Tage hier, schreib mir auf WhatsApp."),
    ("de", "hallo schatz bin neu hier keine anrufe mit unterdrückter nummer"),
    ("ru", "Новенькая в городе, милая и приветливая, жду тебя в уютной квартире."),
    ("ru", "Привет, я свободна сегодня вечером, звони для подробностей."),
    ("ru", "Молодая девушка, расслабляющий массаж, только по записи."),
    ("ru", "Реальные фото, без сюрпризов, чистая и тихая квартира."),
    ("ru", "Я здесь всего несколько дней, пиши в ватсап."),
    ("uk", "Новенька в місті, мила і привітна, чекаю на тебе в затишній квартирі."),
    ("uk", "Привіт, я вільна сьогодні ввечері, телефонуй, щоб дізнатися більше."),
    ("uk", "Реальні фото, без сюрпризів, чиста і тиха квартира."),
    ("uk", "Я тут лише кілька днів, пиши мені у вайбер."),
    ("bg", "Нова в града, мила и приветлива, очаквам те в уютен апартамент."),
    ("bg", "Здравей, свободна съм тази вечер, обади се за повече информация."),
    ("bg", "Млада жена, релаксиращ масаж, само с предварителна уговорка."),
    ("bg", "Истински снимки, без изненади, чист и тих апартамент."),
    ("bg", "Тук съм само няколко дни, пиши ми във вайбър."),
    ("zh", "新来的女孩，温柔可爱，欢迎预约，环境安静干净。"),
    ("zh", "今晚有空，请提前打电话或者发短信联系我。"),
    ("zh", "真实照片，没有惊喜，只接受预约，谢谢理解。"),
    ("zh", "我只在这里待几天，请用微信联系我。"),
    ("zh", "放松按摩，私人公寓，靠近火车站，停车方便。"),
    ("pl", "Nowa w mieście, miła i sympatyczna, zapraszam do dyskretnego mieszkania."),
    ("pl", "Cześć, jestem dostępna dziś wieczorem, zadzwoń po więcej informacji."),
    ("pl", "Prawdziwe zdjęcia, bez niespodzianek, czyste i ciche mieszkanie."),
    ("pl", "Jestem tu tylko kilka dni, napisz do mnie na WhatsApp."),
    ("nl", "Nieuw in de stad, lief en vriendelijk, ik ontvang je discreet."),
    ("nl", "Hallo heren, ik ben vanavond beschikbaar, bel me voor meer informatie."),
    ("nl", "Echte foto's, geen verrassingen, schoon en rustig appartement."),
    ("nl", "Ik ben hier maar een paar dagen, stuur me een bericht op WhatsApp."),
    ("hu", "Új vagyok a városban, kedves és barátságos, diszkrét lakásban várlak."),
    ("hu", "Szia, ma este ráérek, hívj további információért."),
    ("hu", "Valódi képek, nincs meglepetés, tiszta és csendes lakás."),
    ("th", "สาวใหม่ น่ารัก ใจดี นัดล่วงหน้าเท่านั้น ห้องสะอาดและเงียบสงบ"),
    ("th", "ว่างคืนนี้ โทรหรือส่งข้อความมาได้เลยค่ะ"),
    ("vi", "Mới đến thành phố, dễ thương và thân thiện, hẹn trước nhé."),
    ("vi", "Xin chào, tối nay em rảnh, gọi cho em để biết thêm thông tin."),
    ("tr", "Şehirde yeniyim, tatlı ve güler yüzlü, sizi sakin bir dairede bekliyorum."),
    ("tr", "Merhaba, bu akşam müsaitim, daha fazla bilgi için beni arayın."),
    ("ar", "جديدة في المدينة، لطيفة وودودة، أستقبلك في شقة هادئة ونظيفة."),
    ("ar", "مرحبا، أنا متاحة هذا المساء، اتصل بي لمزيد من المعلومات."),
    ("el", "Καινούργια στην πόλη, γλυκιά και φιλική, σε περιμένω σε ήσυχο διαμέρισμα."),
    ("cs", "Nová ve městě, milá a přátelská, čekám na tebe v klidném bytě."),
    ("sq", "E re në qytet, e ëmbël dhe miqësore, të pres në një apartament të qetë."),
]
NOISE = [
    ("Lola 💋 06 12 34 56 78 ", " 150€/1h"),
    ("★★ NEW ★★ ", " snap: lola_75"),
    ("☎ +33 6 12 34 56 78 — ", " 👉 wa.me/33612345678"),
    ("", " lola.b@mail.fr 100 roses 30mn"),
]


def first_letters(text: str, count: int) -> str:
    seen = 0
    for index, char in enumerate(text):
        seen += char.isalpha()
        if seen >= count:
            return text[: index + 1]
    return text


def test_samples_cover_the_main_languages() -> None:
    languages = {language for language, _ in SAMPLES}
    assert {"fr", "en", "es", "pt", "ro", "it", "de", "ru", "zh", "bg"} <= languages
    assert languages <= set(CANDIDATES)


@pytest.mark.parametrize(("language", "text"), SAMPLES)
def test_detects_each_sample(language: str, text: str) -> None:
    found = detect_language(text)
    assert found is not None
    assert found.value == language
    assert found.detail is not None and 0.5 < found.detail["confidence"] <= 1.0
    assert found.shown == text


@pytest.mark.parametrize("noise", NOISE)
def test_noise_does_not_change_the_language(noise: tuple[str, str]) -> None:
    before, after = noise
    right = sum(
        (found := detect_language(before + text + after)) is not None and found.value == language
        for language, text in SAMPLES
    )
    assert right == len(SAMPLES)


def test_accuracy_on_25_letter_snippets() -> None:
    right = sum(
        (found := detect_language(first_letters(text, 25))) is not None and found.value == language
        for language, text in SAMPLES
        if language not in ("zh",)
    )
    total = sum(1 for language, _ in SAMPLES if language != "zh")
    assert right / total >= 0.95


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "Hi",
        "06 12 34 56 78",
        "150€/1h 💋💋💋",
        "snap: lola_75",
        "Lola, 19 ans",
        "https://wa.me/33612345678",
    ],
)
def test_too_short_to_judge(text: str | None) -> None:
    assert detect_language(text) is None


def test_short_chinese_counts_characters_as_words() -> None:
    found = detect_language("新来的女孩，温柔可爱")
    assert found is not None and found.value == "zh"


def test_long_text_is_shown_cut() -> None:
    text = SAMPLES[0][1] * 10
    found = detect_language(text)
    assert found is not None and found.value == "fr"
    assert len(found.shown) < len(text) and text.startswith(found.shown.rstrip("…"))


def test_upper_case_ad() -> None:
    found = detect_language(
        "NOUVELLE À LYON, DOUCE ET SOURIANTE, JE VOUS REÇOIS DANS UN CADRE DISCRET"
    )
    assert found is not None and found.value == "fr"


@given(st.text(max_size=400))
def test_never_raises(text: str) -> None:
    found = detect_language(text)
    if found is not None:
        assert found.value in CANDIDATES
        assert found.detail is not None and 0.0 <= found.detail["confidence"] <= 1.0


# --- the vectorised scorer gives py3langid's own answer ----------------------------------


def test_model_depth_bounds_the_automaton() -> None:
    """Breadth-first from the start state: no state lies deeper than _MODEL_DEPTH bytes, so
    the state after a byte depends on that many bytes at most."""
    identifier = language._identifier()
    next_state = np.asarray(identifier.tk_nextmove)
    row_base = np.asarray(identifier._rowbase, dtype=np.intp)
    seen = np.zeros(len(row_base), dtype=bool)
    seen[0] = True
    frontier, depth = np.array([0]), 0
    while True:
        reached = np.unique(next_state[(row_base[frontier][:, None] + np.arange(256)).ravel()])
        frontier = reached[~seen[reached]]
        if not len(frontier):
            break
        seen[frontier] = True
        depth += 1
    assert seen.all()
    assert 1 <= depth <= language._MODEL_DEPTH


def _same_as_py3langid(text: str) -> None:
    assert language._classify(text) == language._identifier().classify(text)


@pytest.mark.parametrize(
    "text",
    [text for _, text in SAMPLES]
    + [before + text + after for before, after in NOISE for _, text in SAMPLES[::7]]
    + ["A", "ab", "NOUVELLE À LYON", "x" * 300, "Ǆemal İstanbul ﬁne", "\ud800 lone surrogate"],
)
def test_classify_matches_py3langid(text: str) -> None:
    _same_as_py3langid(text)
    _same_as_py3langid(text)  # read again, from the memo of chunks


def test_chunks_read_in_other_contexts() -> None:
    """A word's first features depend on what precedes it: the memo keeps them apart."""
    for text in ("la nuit", "de la nuit", "nuit", "à la nuit tombée", "nuitée nuit nuit"):
        _same_as_py3langid(text)


@given(st.text(max_size=200))
def test_classify_matches_py3langid_on_any_text(text: str) -> None:
    _same_as_py3langid(text)


@given(st.lists(st.integers(min_value=0, max_value=language._MAX_COUNT), min_size=1,
                max_size=300))
def test_log1p_table_is_numpy_log1p_of_any_array(counts: list[int]) -> None:
    table = language._model().log1p
    expected = np.log1p(np.array(counts, dtype=np.float32)).tolist()
    assert [table[count] for count in counts] == expected


def test_counts_beyond_the_table() -> None:
    _same_as_py3langid("a" * (language._MAX_COUNT + 50))
