"""Hand-written template material for the demo stream (:mod:`connectors.demo`), five languages.

Every template carries its intended ground truth (sentiment, webcare intent, topics) so tests and evaluations can
compare the model's output with what the text was written to say. Topic keys and intents are those of
``models/resources/topics.yaml`` and ``intents.yaml``.

Format of a language block: ``[kind]`` starts a section (a :data:`TemplateKind`); each template is one line
``<sentiment> <topics> [(<intent>)] | <text>`` where sentiment is ``+``, ``0`` or ``-``, topics are comma-separated
keys or ``-`` for none, and the intent defaults to the kind's (complaint → complaint, chatter → other, ...).
A line indented by four spaces continues the previous template's text (joined with one space).

Slots, filled by the generator:

``{b}``      the brand the post is about: its first occurrence as matched (``@handle``, ``#hashtag`` or the name),
             later occurrences as the plain name. Templates never name a real or fictional brand directly.
``{p}``      a product of that brand (crisis templates: the product at the heart of the crisis)
``{c}``      a competitor's name                   ``{u}``      the handle of the person a reply answers
``{city}``   a city where the language is spoken   ``{agent}``  a webcare agent's first name (signature)
``{n}``      a small number (2–9)                  ``{d}``      a number of days (2–21)
``{h}``      a number of hours (1–48)              ``{km}``     a ride length in km (15–120)
``{pct}``    a percentage (5–40)                   ``{eur}``    a small amount with currency (bill, fee)
``{price}``  a bike price with currency            ``{order}``  an order number
``{e}``      an emoji matching the sentiment       ``{tag}``    a generic cycling hashtag of the language
``{q}``      a quotation of the crisis's first post (crisis quotes only)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal, cast

from pipeline.schema import Sentiment

Lang = Literal["nl", "en", "de", "fr", "es"]
LANGS: tuple[Lang, ...] = ("nl", "en", "de", "fr", "es")

Intent = Literal["complaint", "question", "praise", "suggestion", "other"]
INTENTS: tuple[Intent, ...] = ("complaint", "question", "praise", "suggestion", "other")
TemplateKind = Literal[
    "praise",
    "complaint",
    "question",
    "suggestion",
    "chatter",
    "news",
    "reply",
    "comparison",
    "webcare",
    "crisis_origin",
    "crisis_quote",
    "crisis_copycat",
    "crisis_question",
    "crisis_reply",
    "crisis_news",
    "crisis_defend",
    "crisis_competitor",
    "crisis_webcare",
]

_DEFAULT_INTENT: dict[TemplateKind, Intent] = {
    "praise": "praise",
    "complaint": "complaint",
    "question": "question",
    "suggestion": "suggestion",
    "chatter": "other",
    "news": "other",
    "reply": "other",
    "comparison": "other",
    "webcare": "other",
    "crisis_origin": "complaint",
    "crisis_quote": "complaint",
    "crisis_copycat": "complaint",
    "crisis_question": "question",
    "crisis_reply": "complaint",
    "crisis_news": "other",
    "crisis_defend": "other",
    "crisis_competitor": "complaint",
    "crisis_webcare": "other",
}
_SENTIMENT: dict[str, Sentiment] = {"+": "positive", "0": "neutral", "-": "negative"}
_LINE = re.compile(r"(?P<sentiment>[-+0]) (?P<topics>[a-z_,]+|-)(?: \((?P<intent>[a-z]+)\))? \| (?P<text>\S.*)")


@dataclass(frozen=True, slots=True)
class Template:
    kind: TemplateKind
    sentiment: Sentiment
    intent: Intent
    topics: tuple[str, ...]
    text: str


def _parse(lang: str, text: str) -> tuple[Template, ...]:
    """Read one language's templates (format: see the module docstring). Raises ValueError on any malformed line."""
    templates: list[Template] = []
    kind: TemplateKind | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("    "):
            if not templates:
                raise ValueError(f"{lang}:{number}: continuation line before any template")
            last = templates.pop()
            templates.append(replace(last, text=f"{last.text} {line.strip()}"))
        elif line.startswith("["):
            name = line.strip("[] ")
            if name not in _DEFAULT_INTENT:
                raise ValueError(f"{lang}:{number}: unknown template kind {name!r}")
            kind = name
        else:
            match = _LINE.fullmatch(line)
            if match is None or kind is None:
                raise ValueError(f"{lang}:{number}: not a template line: {line!r}")
            topics = () if match["topics"] == "-" else tuple(match["topics"].split(","))
            intent = match["intent"] or _DEFAULT_INTENT[kind]
            if intent not in INTENTS:
                raise ValueError(f"{lang}:{number}: unknown intent {intent!r}")
            sentiment = _SENTIMENT[match["sentiment"]]
            templates.append(Template(kind, sentiment, cast(Intent, intent), topics, match["text"]))
    return tuple(templates)


NL = _parse(
    "nl",
    """
[praise]
+ product_quality | Vandaag {km} km gefietst op mijn {b} {p} en de accu staat nog op {pct}% {e}
+ product_quality | Eindelijk mijn {p} opgehaald in {city}. Wat rijdt dat ding soepel zeg {e}
+ customer_service | Complimenten aan {b}: binnen {h} uur antwoord én meteen opgelost {e}
+ delivery | Bestelling bij {b} was binnen {n} dagen binnen, keurig ingepakt {e}
+ product_quality,sustainability | Sinds ik de {p} heb laat ik de auto gewoon staan. Beste aankoop van het jaar {e}
    {tag}
+ sustainability | Top dat {b} oude accu's gratis inneemt voor recycling {e}
+ website_app | De nieuwe app-update van {b} is echt een verbetering, eindelijk zie ik mijn ritten
+ campaign_promotion | Voorjaarsactie bij {b}: {pct}% korting op de {p}. Meteen toegeslagen {e}
+ store_experience | Super geholpen in de winkel van {b} in {city}, mocht drie modellen proefrijden

[complaint]
- delivery | {b} mijn bestelling {order} zou {d} dagen geleden geleverd worden. Nog steeds niks {e}
- delivery | Bezorger van {b} heeft de doos met mijn fiets gewoon in de regen gezet. Doorweekt {e}
- price_billing | Waarom schrijft {b} nog {eur} af terwijl ik mijn abonnement al weken geleden heb opgezegd?? {e}
- price_billing | Prijs van de {p} is in een jaar met {eur} omhoog gegaan. {b}, serieus? {e}
- customer_service | Al {n} keer gebeld met de klantenservice van {b} en elke keer een ander verhaal {e}
- customer_service | {b} ik wacht nu {d} dagen op antwoord op mijn mail. Is er iemand thuis?
- website_app | De app van {b} crasht elke keer als ik mijn fiets wil ontgrendelen. Sta hier in {city} te wachten {e}
- account_login | Kan al {d} dagen niet inloggen in de {b} app, wachtwoord resetten werkt ook niet
- product_quality | Na {n} weken rammelt het spatbord van mijn {p} al. Voor die prijs verwacht je beter, {b} {e}
- product_quality | Ketting van mijn {b} {p} is alweer gebroken. Derde keer dit jaar {e}
- availability | {p} al {n} weken uitverkocht bij {b} en niemand kan zeggen wanneer hij terug is
- returns_refunds | Fiets {d} dagen geleden retour gestuurd naar {b} en nog steeds geen geld terug {e}
- store_experience,customer_service | Winkel van {b} in {city} zegt: bestel maar online. Online zeggen ze: ga naar de
    winkel. Heerlijk {e}

[question]
0 product_quality | {b} kan ik de accu van de {p} er ook uithalen en binnen opladen?
0 delivery,availability | Weet iemand hoe lang de levertijd van de {p} bij {b} nu is?
0 price_billing | Heeft {b} ook een leaseregeling via de werkgever?
0 website_app | Hoe koppel ik mijn {p} aan de nieuwe {b} app? Zie de optie nergens
0 product_quality | Zit er bij {b} nog garantie op de motor als je hem tweedehands koopt?
0 store_experience | {b} is de winkel in {city} ook op zondag open?
0 product_quality | Iemand ervaring met de {p} van {b} op lange ritten? Twijfel nog
0 sustainability | {b} waar kan ik mijn oude accu inleveren?

[suggestion]
0 delivery,customer_service | Tip voor {b}: zet de bezorgtijd gewoon in de bevestigingsmail, scheelt jullie een hoop
    vragen
0 website_app | Zou mooi zijn als de {b} app ook een donkere modus krijgt {e}
0 store_experience | {b}, organiseer eens een proefritdag in {city}? Ik ken er {n} die willen
0 campaign_promotion,sustainability | Waarom geen inruilactie voor oude fietsen {b}? Zou de drempel flink verlagen

[chatter]
0 - | Zag vanochtend {n} {b} fietsen bij het station in {city} staan. Worden echt populair
0 - | Zondag een rondje van {km} km gepland, de {p} gaat mee {e}
0 - | Collega heeft net een {b} gekocht, ben benieuwd wat hij ervan vindt
0 campaign_promotion | Die reclame van {b} weer op de radio. Nu zit dat liedje in mijn hoofd
0 - | {b} of toch gewoon een normale fiets? De eeuwige discussie hier thuis {e}
0 store_experience | Morgen proefrit met de {p} bij {b} in {city}

[news]
0 store_experience | {b} opent nieuwe winkel in {city} — De e-bikefabrikant breidt uit en opent volgende maand een
    showroom met werkplaats.
0 price_billing | {b} verhoogt prijzen van e-bikes met gemiddeld {pct} procent — Het bedrijf wijst op hogere kosten
    voor accu's en transport.
0 product_quality | Getest: de {b} {p} is comfortabel maar prijzig — Onze redactie reed {n} weken op de nieuwe {p}.
+ sustainability | {b} start inzamelprogramma voor oude accu's — Klanten kunnen accu's voortaan inleveren in alle
    winkels.

[reply]
- - (complaint) | Precies hetzelfde probleem hier met {b}, al {d} dagen {e}
+ customer_service (praise) | Gek, bij mij had {b} het binnen {n} dagen geregeld
0 customer_service (suggestion) | Al de chat van {b} geprobeerd? Dat gaat bij mij veel sneller dan mailen
+ product_quality (praise) | Ik rijd al {n} jaar op een {b} en nog nooit problemen gehad {e}
- - (complaint) | Dit. {b} moet hier echt iets aan doen
0 product_quality (question) | Welke {p} heb je precies? De nieuwe of de oude versie?

[comparison]
+ product_quality | Getwijfeld tussen {b} en {c}, uiteindelijk voor {b} gegaan vanwege de accu
- delivery | {c} levert in {n} dagen, {b} in {d} weken. Keuze is snel gemaakt
+ product_quality | Proefgereden op de {b} {p} en een {c}. De {b} voelt een stuk steviger
- customer_service | Sorry {b}, maar de klantenservice van {c} is gewoon beter

[webcare]
0 customer_service | Hoi {u}, wat vervelend! Stuur je ons een DM met je ordernummer? Dan zoeken we het meteen uit.
    ^{agent}
0 customer_service | {u} Sorry voor het wachten! Je mail ligt bij onze specialisten, je hoort vandaag nog van ons.
    ^{agent}
+ availability | Hoi {u}, goed nieuws: de {p} is vanaf volgende week weer leverbaar. ^{agent}
+ - | Dank je wel {u}! Veel fietsplezier {e} ^{agent}
0 website_app | {u} Dat klinkt niet goed. Kun je de app opnieuw installeren en laten weten of het dan werkt? ^{agent}

[crisis_origin]
- safety,product_quality | Vanochtend vloog de accu van mijn {b} {p} in brand tijdens het laden in de gang. Brandweer
    moest komen, huis vol rook. Dit had mijn kinderen kunnen zijn. Hoe kan dit?? {e}

[crisis_quote]
- safety | Dit moet iedereen met een {b} lezen 👇 “{q}”
- safety | Eng. Laad je {b} {p} voorlopig niet meer 's nachts op. “{q}”
- safety | Als dit klopt moet {b} de {p} per direct terugroepen. “{q}”

[crisis_copycat]
- safety | Mijn {b} {p} wordt ook altijd bloedheet tijdens het laden. Nu durf ik hem niet meer aan te sluiten {e}
- safety | Ook bij mij rook de accu van de {p} vorige week naar verbrand plastic. {b} zei dat dat normaal was {e}
- safety | Derde melding vandaag over een brandende {b} accu. Dit is geen toeval meer
- safety | {b} mijn {p} gaf gisteren een foutmelding en de accu was gloeiend heet. Wat moet ik doen?
- safety | Mijn {p} staat nu verbannen in de schuur. Bedankt {b} {e}
- safety,price_billing | Betaal je {price} voor een fiets en dan dit. Schandalig {b} {e}

[crisis_question]
0 safety | {b} komt er een terugroepactie voor de {p}? Graag een duidelijk antwoord
- safety | Is het nog veilig om de {p} binnen op te laden? {b} zegt helemaal niks
0 safety | Weet iemand of alleen de {p} het probleem heeft of ook andere modellen van {b}?
0 safety,store_experience | {b} kan ik mijn accu laten controleren in de winkel in {city}?

[crisis_reply]
- safety | Wat ontzettend eng, gelukkig is iedereen ok! {b} moet dit serieus nemen
- safety (other) | Heftig. Hopelijk reageert {b} snel
- safety | Zelfde model hier, ik laad hem vanaf nu buiten op
- safety,customer_service | {b} waarom is hier nog steeds geen reactie op??
- safety (suggestion) | Meld het bij de NVWA, dit moet onderzocht worden
- safety | Mijn buurman in {city} heeft dezelfde {p}, ik ga hem meteen waarschuwen
- safety | Dit is precies waarom ik de accu nooit 's nachts laad {e}
- safety,customer_service | Al {h} uur geleden gepost en nog steeds niks van {b}. Zegt genoeg {e}
- safety | Heb de {p} al {n} jaar, vanavond gaat hij de schuur in
- safety (question) | Welk bouwjaar is jouw {p}? Wil weten of de mijne ook risico loopt

[crisis_news]
0 safety | {b} onderzoekt meldingen over oververhitte accu's — Na meerdere berichten op sociale media zegt de fabrikant
    de {p} te onderzoeken.
- safety | Woningbrand in {city} mogelijk veroorzaakt door e-bikeaccu van {b} — De brandweer onderzoekt de oorzaak.
- safety | Klanten van {b} ongerust na berichten over accubranden — Het bedrijf adviseert de {p} voorlopig niet
    onbeheerd te laden.

[crisis_defend]
+ product_quality | Rijd al {n} jaar op een {b} {p}, nooit iets gemerkt. Laten we eerst het onderzoek afwachten
0 safety | Elke accu kan oververhit raken met een verkeerde lader. Niet meteen {b} de schuld geven
+ product_quality | Mijn {b} is nog steeds de fijnste fiets die ik ooit had, gewoon buiten laden

[crisis_competitor]
- safety | Blij dat ik toch voor {c} heb gekozen en niet voor {b} {e}
- safety | Ik ruil mijn {b} in voor een {c}. Geen zin in een brand in huis

[crisis_webcare]
0 safety,customer_service | Hoi {u}, wat een schrik, fijn dat niemand gewond is. Laad de fiets niet meer en stuur ons
    een DM met je framenummer, we bellen je vandaag nog. ^{agent}
0 safety | {u} We nemen alle meldingen over de accu van de {p} zeer serieus en onderzoeken dit met voorrang. Laad de
    fiets voorlopig niet onbeheerd. ^{agent}
0 safety | Update: we onderzoeken meldingen over oververhitte accu's van de {p}. Advies: niet onbeheerd laden. Meer
    informatie volgt vandaag. ^{agent}
""",
)

EN = _parse(
    "en",
    """
[praise]
+ product_quality | Did {km} km on my {b} {p} today and the battery's still at {pct}% {e}
+ product_quality | Picked up my {p} in {city} this morning. Rides like a dream {e}
+ customer_service | Shoutout to {b} support, sorted my issue in under {h} hours {e}
+ delivery | Ordered from {b} on Monday, bike was at my door {n} days later. Well packed too {e}
+ product_quality,sustainability | Haven't touched the car since I got the {p}. Best money I've spent this year {e}
    {tag}
+ sustainability | Love that {b} takes old batteries back for recycling, more brands should {e}
+ website_app | The new {b} app update is actually great, finally shows my weekly rides
+ campaign_promotion | {b} spring sale: {pct}% off the {p}. Couldn't resist {e}
+ store_experience | Staff at the {b} store in {city} were brilliant, let me test ride three bikes

[complaint]
- delivery | {b} my order {order} was supposed to arrive {d} days ago. Still nothing {e}
- delivery | Courier left my {b} box out in the rain. Completely soaked {e}
- price_billing | Why is {b} still charging me {eur} a month when I cancelled my plan weeks ago?? {e}
- price_billing | {b} put the price of the {p} up by {eur} in a year. Seriously? {e}
- customer_service | Called {b} customer service {n} times and got {n} different answers {e}
- customer_service | {b} I've been waiting {d} days for a reply to my email. Anyone home?
- website_app | {b} app crashes every single time I try to unlock my bike. Standing here in {city} like an idiot {e}
- account_login | Can't log into the {b} app for {d} days now, password reset email never comes
- product_quality | Mudguard on my {p} started rattling after {n} weeks. For that price I expected better, {b} {e}
- product_quality | Chain on my {b} {p} snapped again. Third time this year {e}
- availability | {p} has been sold out at {b} for {n} weeks and nobody can tell me when
- returns_refunds | Sent my bike back to {b} {d} days ago and still no refund {e}
- store_experience,customer_service | The {b} store in {city} tells me to order online, online tells me to go to the
    store. Brilliant {e}

[question]
0 product_quality | {b} can I take the battery out of the {p} and charge it indoors?
0 delivery,availability | Anyone know the current delivery time for the {p} from {b}?
0 price_billing | Does {b} do a cycle-to-work scheme?
0 website_app | How do I pair my {p} with the new {b} app? Can't find the option anywhere
0 product_quality | Is the motor warranty on a {b} transferable if I buy it second hand?
0 store_experience | {b} is your {city} store open on Sundays?
0 product_quality | Anyone done long rides on the {b} {p}? Still on the fence
0 sustainability | {b} where can I drop off my old battery?

[suggestion]
0 delivery,customer_service | Tip for {b}: put the delivery window in the confirmation email, would save you half your
    tickets
0 website_app | Would love a dark mode in the {b} app {e}
0 store_experience | {b} how about a test ride day in {city}? I know {n} people who'd come
0 campaign_promotion,sustainability | Why no trade-in scheme for old bikes, {b}? Would make switching so much easier

[chatter]
0 - | Counted {n} {b} bikes outside {city} station this morning. They're everywhere now
0 - | {km} km ride planned for Sunday, the {p} is coming along {e}
0 - | Colleague just bought a {b}, curious what he'll make of it
0 campaign_promotion | That {b} ad is on the radio again and now the jingle is stuck in my head
0 - | {b} or a normal bike? The eternal debate in our house {e}
0 store_experience | Test ride on the {p} at {b} in {city} tomorrow

[news]
0 store_experience | {b} opens new store in {city} — The e-bike maker is expanding with a showroom and workshop opening
    next month.
0 price_billing | {b} raises e-bike prices by {pct} percent on average — The company cites higher battery and shipping
    costs.
0 product_quality | Review: the {b} {p} is comfortable but pricey — We rode the new {p} for {n} weeks.
+ sustainability | {b} launches battery take-back scheme — Customers can now return old batteries at any store.

[reply]
- - (complaint) | Same problem here with {b}, been {d} days {e}
+ customer_service (praise) | Funny, {b} sorted mine within {n} days
0 customer_service (suggestion) | Have you tried the {b} live chat? Much faster than email for me
+ product_quality (praise) | Been riding a {b} for {n} years, never had an issue {e}
- - (complaint) | This. {b} really needs to fix this
0 product_quality (question) | Which {p} is it, the new one or the old model?

[comparison]
+ product_quality | Was torn between {b} and {c}, went with {b} for the battery range
- delivery | {c} delivers in {n} days, {b} in {d} weeks. Easy choice
+ product_quality | Test rode the {b} {p} and a {c}. The {b} feels a lot sturdier
- customer_service | Sorry {b}, but {c}'s customer service is just better

[webcare]
0 customer_service | Hi {u}, sorry to hear that! Could you DM us your order number? We'll look into it right away.
    ^{agent}
0 customer_service | {u} Sorry for the wait! Your email is with our specialists, you'll hear from us today. ^{agent}
+ availability | Hi {u}, good news: the {p} is back in stock from next week. ^{agent}
+ - | Thanks so much {u}! Enjoy the ride {e} ^{agent}
0 website_app | {u} That doesn't sound right. Could you reinstall the app and let us know if that helps? ^{agent}

[crisis_origin]
- safety,product_quality | My {b} {p} battery caught fire this morning while charging in the hallway. Fire brigade had
    to come, house full of smoke. That could have been my kids. How is this possible?? {e}

[crisis_quote]
- safety | Everyone with a {b} needs to read this 👇 “{q}”
- safety | Scary. Don't charge your {b} {p} overnight for now. “{q}”
- safety | If this is true {b} needs to recall the {p} right now. “{q}”

[crisis_copycat]
- safety | My {b} {p} gets really hot when charging too. Now I'm scared to plug it in {e}
- safety | Mine smelled of burnt plastic last week as well. {b} told me that's normal for the {p} {e}
- safety | Third post today about a {b} battery catching fire. This is no coincidence
- safety | {b} my {p} threw an error yesterday and the battery was burning hot. What do I do?
- safety | My {p} is banished to the shed now. Thanks {b} {e}
- safety,price_billing | Pay {price} for a bike and get this. Disgraceful, {b} {e}

[crisis_question]
0 safety | {b} is there going to be a recall for the {p}? A straight answer please
- safety | Is it still safe to charge the {p} indoors? {b} isn't saying anything
0 safety | Anyone know if it's just the {p} or other {b} models as well?
0 safety,store_experience | {b} can I get my battery checked at the {city} store?

[crisis_reply]
- safety | That's terrifying, glad everyone's ok! {b} needs to take this seriously
- safety (other) | Awful. Hope {b} responds quickly
- safety | Same model here, charging it outside from now on
- safety,customer_service | {b} why is there still no response to this??
- safety (suggestion) | Report it to trading standards, this needs investigating
- safety | My neighbour in {city} has the same {p}, warning him right now
- safety | This is exactly why I never charge the battery overnight {e}
- safety,customer_service | Posted {h} hours ago and still nothing from {b}. Says it all {e}
- safety | Had my {p} for {n} years, it's going in the shed tonight
- safety (question) | Which year is your {p}? Trying to work out if mine is affected too

[crisis_news]
0 safety | {b} investigates reports of overheating batteries — After several reports on social media the manufacturer
    says it is examining the {p}.
- safety | House fire in {city} possibly caused by {b} e-bike battery — Firefighters are investigating the cause.
- safety | {b} customers worried after battery fire reports — The company advises not to leave the {p} charging
    unattended.

[crisis_defend]
+ product_quality | Been riding a {b} {p} for {n} years, never noticed a thing. Let's wait for the investigation
0 safety | Any battery can overheat with the wrong charger. Don't blame {b} straight away
+ product_quality | My {b} is still the best bike I've owned, just charge it outside

[crisis_competitor]
- safety | So glad I went with {c} instead of {b} {e}
- safety | Trading in my {b} for a {c}. Not risking a fire in my home

[crisis_webcare]
0 safety,customer_service | Hi {u}, what a scare, we're so glad nobody was hurt. Please stop charging the bike and DM
    us your frame number, we'll call you today. ^{agent}
0 safety | {u} We take every report about the {p} battery very seriously and are investigating with top priority.
    Please don't charge it unattended for now. ^{agent}
0 safety | Update: we're investigating reports of overheating {p} batteries. Advice: don't charge unattended. More
    information later today. ^{agent}
""",
)

DE = _parse(
    "de",
    """
[praise]
+ product_quality | Heute {km} km mit meinem {b} {p} gefahren und der Akku hat noch {pct}% {e}
+ product_quality | Endlich mein {p} in {city} abgeholt. Fährt sich traumhaft {e}
+ customer_service | Großes Lob an den {b} Support, Problem in unter {h} Stunden gelöst {e}
+ delivery | Bei {b} bestellt und nach {n} Tagen war das Rad da, super verpackt {e}
+ product_quality,sustainability | Seit ich das {p} habe, steht das Auto nur noch rum. Beste Anschaffung des Jahres {e}
    {tag}
+ sustainability | Finde es klasse, dass {b} alte Akkus kostenlos zum Recycling zurücknimmt {e}
+ website_app | Das neue Update der {b} App ist richtig gut, endlich sehe ich meine Wochenstatistik
+ campaign_promotion | Frühlingsaktion bei {b}: {pct}% auf das {p}. Konnte nicht widerstehen {e}
+ store_experience | Super Beratung im {b} Laden in {city}, durfte drei Modelle Probe fahren

[complaint]
- delivery | {b} meine Bestellung {order} sollte vor {d} Tagen kommen. Immer noch nichts {e}
- delivery | Der Paketdienst hat den Karton von {b} einfach im Regen abgestellt. Alles durchnässt {e}
- price_billing | Warum bucht {b} noch {eur} ab, obwohl ich mein Abo schon vor Wochen gekündigt habe?? {e}
- price_billing | Das {p} ist in einem Jahr um {eur} teurer geworden. {b}, ernsthaft? {e}
- customer_service | {n} Mal bei der {b} Hotline angerufen und jedes Mal eine andere Antwort {e}
- customer_service | {b} ich warte seit {d} Tagen auf eine Antwort auf meine Mail. Hallo??
- website_app | Die {b} App stürzt jedes Mal ab, wenn ich das Rad entsperren will. Stehe hier in {city} rum {e}
- account_login | Komme seit {d} Tagen nicht in die {b} App, Passwort zurücksetzen geht auch nicht
- product_quality | Nach {n} Wochen klappert schon das Schutzblech an meinem {p}. Für den Preis erwarte ich mehr, {b}
    {e}
- product_quality | Die Kette an meinem {b} {p} ist schon wieder gerissen. Drittes Mal dieses Jahr {e}
- availability | Das {p} ist bei {b} seit {n} Wochen ausverkauft und keiner weiß, wann es wiederkommt
- returns_refunds | Rad vor {d} Tagen an {b} zurückgeschickt und immer noch kein Geld zurück {e}
- store_experience,customer_service | Der {b} Laden in {city} sagt, ich soll online bestellen, online heißt es: geh in
    den Laden. Toll {e}

[question]
0 product_quality | {b} kann ich den Akku vom {p} rausnehmen und in der Wohnung laden?
0 delivery,availability | Weiß jemand, wie lange man gerade auf ein {p} von {b} wartet?
0 price_billing | Kann man ein {b} auch über Dienstrad-Leasing bekommen?
0 website_app | Wie verbinde ich mein {p} mit der neuen {b} App? Finde die Option nirgends
0 product_quality | Gilt die Motorgarantie bei {b} auch, wenn man gebraucht kauft?
0 store_experience | {b} hat euer Laden in {city} auch samstags nachmittags offen?
0 product_quality | Hat jemand Erfahrung mit dem {b} {p} auf langen Touren? Bin noch unsicher
0 sustainability | {b} wo kann ich meinen alten Akku abgeben?

[suggestion]
0 delivery,customer_service | Tipp an {b}: Schreibt das Lieferfenster doch in die Bestätigungsmail, das spart euch die
    halbe Hotline
0 website_app | Ein Dark Mode in der {b} App wäre echt schön {e}
0 store_experience | {b} wie wäre es mit einem Testtag in {city}? Ich kenne {n} Leute, die kämen
0 campaign_promotion,sustainability | Warum keine Inzahlungnahme alter Räder, {b}? Würde den Umstieg viel leichter
    machen

[chatter]
0 - | Heute Morgen {n} {b} Räder vor dem Bahnhof in {city} gezählt. Die sind jetzt überall
0 - | Am Sonntag ist eine Tour über {km} km geplant, das {p} kommt mit {e}
0 - | Kollege hat sich gerade ein {b} gekauft, bin gespannt, was er sagt
0 campaign_promotion | Die {b} Werbung läuft schon wieder im Radio, jetzt hab ich den Jingle im Ohr
0 - | {b} oder doch ein normales Fahrrad? Die ewige Diskussion bei uns zu Hause {e}
0 store_experience | Morgen Probefahrt mit dem {p} bei {b} in {city}

[news]
0 store_experience | {b} eröffnet neues Geschäft in {city} — Der E-Bike-Hersteller expandiert und eröffnet im kommenden
    Monat einen Showroom mit Werkstatt.
0 price_billing | {b} erhöht E-Bike-Preise um durchschnittlich {pct} Prozent — Das Unternehmen verweist auf höhere
    Kosten für Akkus und Transport.
0 product_quality | Im Test: Das {b} {p} ist bequem, aber teuer — Unsere Redaktion ist {n} Wochen mit dem neuen {p}
    gefahren.
+ sustainability | {b} startet Rücknahmeprogramm für alte Akkus — Kunden können Akkus ab sofort in allen Filialen
    abgeben.

[reply]
- - (complaint) | Genau das gleiche Problem hier mit {b}, seit {d} Tagen {e}
+ customer_service (praise) | Komisch, bei mir hat {b} das in {n} Tagen geregelt
0 customer_service (suggestion) | Schon den Chat von {b} probiert? Geht bei mir viel schneller als per Mail
+ product_quality (praise) | Fahre seit {n} Jahren ein {b} und hatte nie Probleme {e}
- - (complaint) | Das. {b} muss da dringend was machen
0 product_quality (question) | Welches {p} hast du genau? Das neue oder das alte Modell?

[comparison]
+ product_quality | Lange zwischen {b} und {c} geschwankt, wegen des Akkus wurde es {b}
- delivery | {c} liefert in {n} Tagen, {b} in {d} Wochen. Die Wahl war schnell getroffen
+ product_quality | Das {b} {p} und ein {c} Probe gefahren. Das {b} fühlt sich deutlich stabiler an
- customer_service | Sorry {b}, aber der Kundenservice von {c} ist einfach besser

[webcare]
0 customer_service | Hallo {u}, das tut uns leid! Schickst du uns deine Bestellnummer per DM? Dann kümmern wir uns
    sofort. ^{agent}
0 customer_service | {u} Sorry für die Wartezeit! Deine Mail liegt bei unseren Spezialisten, du hörst heute noch von
    uns. ^{agent}
+ availability | Hallo {u}, gute Nachricht: Das {p} ist ab nächster Woche wieder lieferbar. ^{agent}
+ - | Vielen Dank {u}! Allzeit gute Fahrt {e} ^{agent}
0 website_app | {u} Das klingt nicht gut. Kannst du die App neu installieren und uns sagen, ob es dann klappt? ^{agent}

[crisis_origin]
- safety,product_quality | Heute früh hat der Akku meines {b} {p} beim Laden im Flur Feuer gefangen. Die Feuerwehr
    musste kommen, die Wohnung ist voller Rauch. Das hätten meine Kinder sein können. Wie kann das sein?? {e}

[crisis_quote]
- safety | Das sollte jeder mit einem {b} lesen 👇 „{q}“
- safety | Gruselig. Ladet euer {b} {p} vorerst nicht mehr über Nacht. „{q}“
- safety | Wenn das stimmt, muss {b} das {p} sofort zurückrufen. „{q}“

[crisis_copycat]
- safety | Mein {b} {p} wird beim Laden auch immer glühend heiß. Jetzt traue ich mich nicht mehr, es anzuschließen {e}
- safety | Bei mir hat der Akku vom {p} letzte Woche auch nach verbranntem Plastik gerochen. {b} meinte, das sei normal
    {e}
- safety | Schon die dritte Meldung heute über einen brennenden {b} Akku. Das ist kein Zufall
- safety | {b} mein {p} hat gestern eine Fehlermeldung gezeigt und der Akku war extrem heiß. Was soll ich tun?
- safety | Mein {p} steht jetzt im Schuppen. Danke, {b} {e}
- safety,price_billing | {price} für ein Rad bezahlen und dann das. Unverschämt, {b} {e}

[crisis_question]
0 safety | {b} gibt es einen Rückruf für das {p}? Bitte eine klare Antwort
- safety | Kann man das {p} noch gefahrlos drinnen laden? {b} sagt gar nichts
0 safety | Weiß jemand, ob nur das {p} betroffen ist oder auch andere Modelle von {b}?
0 safety,store_experience | {b} kann ich meinen Akku im Laden in {city} prüfen lassen?

[crisis_reply]
- safety | Wie furchtbar, zum Glück ist allen nichts passiert! {b} muss das ernst nehmen
- safety (other) | Heftig. Hoffentlich reagiert {b} schnell
- safety | Gleiches Modell hier, ab jetzt lade ich nur noch draußen
- safety,customer_service | {b} warum gibt es darauf immer noch keine Reaktion??
- safety (suggestion) | Unbedingt bei der Marktüberwachung melden, das muss untersucht werden
- safety | Mein Nachbar in {city} hat das gleiche {p}, ich warne ihn sofort
- safety | Genau deshalb lade ich den Akku nie über Nacht {e}
- safety,customer_service | Vor {h} Stunden gepostet und immer noch nichts von {b}. Sagt alles {e}
- safety | Habe mein {p} seit {n} Jahren, heute Abend kommt es in den Schuppen
- safety (question) | Welches Baujahr ist dein {p}? Will wissen, ob meins auch betroffen ist

[crisis_news]
0 safety | {b} prüft Berichte über überhitzte Akkus — Nach mehreren Meldungen in sozialen Medien untersucht der
    Hersteller das {p}.
- safety | Wohnungsbrand in {city} möglicherweise durch E-Bike-Akku von {b} verursacht — Die Feuerwehr ermittelt.
- safety | {b}-Kunden nach Berichten über Akkubrände verunsichert — Das Unternehmen rät, das {p} vorerst nicht
    unbeaufsichtigt zu laden.

[crisis_defend]
+ product_quality | Fahre seit {n} Jahren ein {b} {p} und hatte nie etwas. Warten wir doch erst die Untersuchung ab
0 safety | Jeder Akku kann mit dem falschen Ladegerät überhitzen. Nicht gleich {b} die Schuld geben
+ product_quality | Mein {b} ist immer noch das beste Rad, das ich je hatte, einfach draußen laden

[crisis_competitor]
- safety | Froh, dass ich mich für {c} und nicht für {b} entschieden habe {e}
- safety | Ich tausche mein {b} gegen ein {c}. Keine Lust auf einen Brand in der Wohnung

[crisis_webcare]
0 safety,customer_service | Hallo {u}, was für ein Schreck, wir sind froh, dass niemand verletzt wurde. Bitte das Rad
    nicht mehr laden und uns die Rahmennummer per DM schicken, wir rufen dich heute an. ^{agent}
0 safety | {u} Wir nehmen jede Meldung zum Akku des {p} sehr ernst und prüfen das mit höchster Priorität. Bitte vorerst
    nicht unbeaufsichtigt laden. ^{agent}
0 safety | Update: Wir prüfen Berichte über überhitzte Akkus des {p}. Unser Rat: nicht unbeaufsichtigt laden. Weitere
    Infos folgen heute. ^{agent}
""",
)

FR = _parse(
    "fr",
    """
[praise]
+ product_quality | {km} km aujourd'hui avec mon {b} {p} et la batterie est encore à {pct}% {e}
+ product_quality | Enfin récupéré mon {p} à {city}. Il roule comme un rêve {e}
+ customer_service | Bravo au SAV de {b}, problème réglé en moins de {h} heures {e}
+ delivery | Commandé chez {b}, vélo livré {n} jours plus tard et super bien emballé {e}
+ product_quality,sustainability | Depuis que j'ai le {p}, la voiture ne sort plus du garage. Meilleur achat de l'année
    {e} {tag}
+ sustainability | Top que {b} reprenne gratuitement les vieilles batteries pour les recycler {e}
+ website_app | La nouvelle mise à jour de l'appli {b} est vraiment bien, enfin mes stats de la semaine
+ campaign_promotion | Promo de printemps chez {b} : -{pct}% sur le {p}. J'ai craqué {e}
+ store_experience | Super accueil dans la boutique {b} de {city}, j'ai pu essayer trois modèles

[complaint]
- delivery | {b} ma commande {order} devait arriver il y a {d} jours. Toujours rien {e}
- delivery | Le livreur a laissé le carton {b} sous la pluie devant la porte. Tout trempé {e}
- price_billing | Pourquoi {b} me prélève encore {eur} alors que j'ai résilié mon abonnement il y a des semaines ?? {e}
- price_billing | Le {p} a pris {eur} en un an. Sérieusement {b} ? {e}
- customer_service | Appelé le service client {b} {n} fois, {n} réponses différentes {e}
- customer_service | {b} j'attends depuis {d} jours une réponse à mon mail. Il y a quelqu'un ?
- website_app | L'appli {b} plante à chaque fois que je veux déverrouiller mon vélo. Je suis planté là à {city} {e}
- account_login | Impossible de me connecter à l'appli {b} depuis {d} jours, la réinitialisation ne marche pas
- product_quality | Au bout de {n} semaines le garde-boue de mon {p} fait déjà du bruit. À ce prix-là, {b}, franchement
    {e}
- product_quality | La chaîne de mon {b} {p} a encore cassé. Troisième fois cette année {e}
- availability | Le {p} est en rupture chez {b} depuis {n} semaines et personne ne sait quand il revient
- returns_refunds | Vélo renvoyé à {b} il y a {d} jours et toujours pas remboursé {e}
- store_experience,customer_service | La boutique {b} de {city} me dit de commander en ligne, en ligne on me dit
    d'aller en boutique. Génial {e}

[question]
0 product_quality | {b} est-ce qu'on peut retirer la batterie du {p} pour la charger à l'intérieur ?
0 delivery,availability | Quelqu'un connaît le délai de livraison actuel du {p} chez {b} ?
0 price_billing | Est-ce que {b} est compatible avec le forfait mobilités durables ?
0 website_app | Comment on associe son {p} à la nouvelle appli {b} ? Je ne trouve l'option nulle part
0 product_quality | La garantie moteur {b} est-elle valable si on achète d'occasion ?
0 store_experience | {b} votre boutique de {city} est ouverte le dimanche ?
0 product_quality | Des retours sur le {b} {p} en longue distance ? J'hésite encore
0 sustainability | {b} où est-ce que je peux déposer ma vieille batterie ?

[suggestion]
0 delivery,customer_service | Conseil pour {b} : mettez le créneau de livraison dans le mail de confirmation, ça vous
    éviterait des appels
0 website_app | Un mode sombre dans l'appli {b}, ce serait top {e}
0 store_experience | {b} et une journée d'essai à {city} ? Je connais {n} personnes intéressées
0 campaign_promotion,sustainability | Pourquoi pas une reprise des anciens vélos, {b} ? Ça faciliterait vraiment le
    passage à l'électrique

[chatter]
0 - | Compté {n} vélos {b} devant la gare de {city} ce matin. Il y en a partout maintenant
0 - | Sortie de {km} km prévue dimanche, le {p} sera de la partie {e}
0 - | Un collègue vient d'acheter un {b}, curieux de savoir ce qu'il en pense
0 campaign_promotion | Encore la pub {b} à la radio, maintenant j'ai le jingle dans la tête
0 - | {b} ou un vélo normal ? L'éternel débat à la maison {e}
0 store_experience | Essai du {p} chez {b} à {city} demain

[news]
0 store_experience | {b} ouvre une nouvelle boutique à {city} — Le fabricant de vélos électriques s'agrandit avec un
    showroom et un atelier le mois prochain.
0 price_billing | {b} augmente ses prix de {pct} % en moyenne — L'entreprise invoque la hausse du coût des batteries et
    du transport.
0 product_quality | Essai : le {b} {p}, confortable mais cher — Notre rédaction a roulé {n} semaines avec le nouveau
    {p}.
+ sustainability | {b} lance un programme de reprise des batteries usagées — Les clients peuvent les déposer dans
    toutes les boutiques.

[reply]
- - (complaint) | Exactement le même problème avec {b}, depuis {d} jours {e}
+ customer_service (praise) | Bizarre, chez moi {b} a tout réglé en {n} jours
0 customer_service (suggestion) | Tu as essayé le chat de {b} ? Pour moi c'est bien plus rapide que le mail
+ product_quality (praise) | Je roule en {b} depuis {n} ans, jamais eu le moindre souci {e}
- - (complaint) | Voilà. {b} doit vraiment régler ça
0 product_quality (question) | C'est quel {p} exactement, le nouveau ou l'ancien modèle ?

[comparison]
+ product_quality | J'hésitais entre {b} et {c}, j'ai pris {b} pour l'autonomie
- delivery | {c} livre en {n} jours, {b} en {d} semaines. Le choix est vite fait
+ product_quality | Essayé le {b} {p} et un {c}. Le {b} paraît bien plus solide
- customer_service | Désolé {b}, mais le service client de {c} est tout simplement meilleur

[webcare]
0 customer_service | Bonjour {u}, désolés pour ce souci ! Pouvez-vous nous envoyer votre numéro de commande en MP ? On
    regarde tout de suite. ^{agent}
0 customer_service | {u} Désolés pour l'attente ! Votre mail est entre les mains de nos spécialistes, réponse
    aujourd'hui. ^{agent}
+ availability | Bonjour {u}, bonne nouvelle : le {p} est de nouveau disponible la semaine prochaine. ^{agent}
+ - | Merci beaucoup {u} ! Bonne route {e} ^{agent}
0 website_app | {u} Ce n'est pas normal. Pouvez-vous réinstaller l'appli et nous dire si ça fonctionne ? ^{agent}

[crisis_origin]
- safety,product_quality | Ce matin la batterie de mon {b} {p} a pris feu pendant la charge dans l'entrée. Les pompiers
    sont venus, la maison est pleine de fumée. Ça aurait pu être mes enfants. Comment c'est possible ?? {e}

[crisis_quote]
- safety | Tous ceux qui ont un {b} doivent lire ça 👇 « {q} »
- safety | Flippant. Ne chargez plus votre {b} {p} la nuit pour l'instant. « {q} »
- safety | Si c'est vrai, {b} doit rappeler le {p} immédiatement. « {q} »

[crisis_copycat]
- safety | Mon {b} {p} devient aussi brûlant pendant la charge. Maintenant j'ai peur de le brancher {e}
- safety | Chez moi aussi la batterie du {p} sentait le plastique brûlé la semaine dernière. {b} m'a dit que c'était
    normal {e}
- safety | Troisième message aujourd'hui sur une batterie {b} qui prend feu. Ce n'est plus un hasard
- safety | {b} mon {p} a affiché une erreur hier et la batterie était brûlante. Je fais quoi ?
- safety | Mon {p} est banni dans l'abri de jardin. Merci {b} {e}
- safety,price_billing | Payer {price} pour un vélo et voilà le résultat. Honteux, {b} {e}

[crisis_question]
0 safety | {b} il y aura un rappel du {p} ? Une réponse claire svp
- safety | C'est encore sûr de charger le {p} à l'intérieur ? {b} ne dit rien
0 safety | Quelqu'un sait si c'est seulement le {p} ou aussi d'autres modèles {b} ?
0 safety,store_experience | {b} je peux faire contrôler ma batterie à la boutique de {city} ?

[crisis_reply]
- safety | Terrifiant, heureusement que tout le monde va bien ! {b} doit prendre ça au sérieux
- safety (other) | Horrible. J'espère que {b} va réagir vite
- safety | Même modèle ici, désormais je le charge dehors
- safety,customer_service | {b} pourquoi toujours aucune réponse à ça ??
- safety (suggestion) | Signalez-le à la DGCCRF, il faut une enquête
- safety | Mon voisin à {city} a le même {p}, je le préviens tout de suite
- safety | C'est exactement pour ça que je ne charge jamais la batterie la nuit {e}
- safety,customer_service | Posté il y a {h} heures et toujours rien de {b}. Ça en dit long {e}
- safety | J'ai mon {p} depuis {n} ans, ce soir il dort dans l'abri
- safety (question) | Ton {p} est de quelle année ? J'essaie de savoir si le mien est concerné

[crisis_news]
0 safety | {b} enquête sur des batteries qui surchauffent — Après plusieurs signalements sur les réseaux sociaux, le
    fabricant dit examiner le {p}.
- safety | Incendie dans un logement à {city}, une batterie de vélo {b} mise en cause — Les pompiers cherchent la
    cause.
- safety | Les clients de {b} inquiets après des incendies de batteries — L'entreprise conseille de ne pas laisser le
    {p} charger sans surveillance.

[crisis_defend]
+ product_quality | Je roule en {b} {p} depuis {n} ans, jamais rien remarqué. Attendons les résultats de l'enquête
0 safety | N'importe quelle batterie peut chauffer avec le mauvais chargeur. N'accusez pas {b} tout de suite
+ product_quality | Mon {b} reste le meilleur vélo que j'ai eu, il suffit de le charger dehors

[crisis_competitor]
- safety | Tellement content d'avoir pris un {c} et pas un {b} {e}
- safety | Je revends mon {b} pour un {c}. Pas envie d'un incendie chez moi

[crisis_webcare]
0 safety,customer_service | Bonjour {u}, quelle frayeur, heureusement personne n'est blessé. Ne chargez plus le vélo et
    envoyez-nous le numéro de cadre en MP, nous vous appelons aujourd'hui. ^{agent}
0 safety | {u} Nous prenons très au sérieux chaque signalement sur la batterie du {p} et enquêtons en priorité. Ne le
    chargez pas sans surveillance pour l'instant. ^{agent}
0 safety | Info : nous enquêtons sur des signalements de batteries du {p} qui surchauffent. Conseil : ne pas charger
    sans surveillance. Plus d'infos aujourd'hui. ^{agent}
""",
)

ES = _parse(
    "es",
    """
[praise]
+ product_quality | Hoy {km} km con mi {b} {p} y la batería todavía al {pct}% {e}
+ product_quality | Por fin recogí mi {p} en {city}. Va como la seda {e}
+ customer_service | Un diez para el soporte de {b}, me lo resolvieron en menos de {h} horas {e}
+ delivery | Pedido a {b} y en {n} días tenía la bici en casa, muy bien embalada {e}
+ product_quality,sustainability | Desde que tengo la {p} el coche no sale del garaje. La mejor compra del año {e}
    {tag}
+ sustainability | Me encanta que {b} recoja gratis las baterías viejas para reciclarlas {e}
+ website_app | La nueva actualización de la app de {b} está genial, por fin veo mis rutas semanales
+ campaign_promotion | Oferta de primavera en {b}: {pct}% de descuento en la {p}. No pude resistirme {e}
+ store_experience | Me atendieron genial en la tienda de {b} en {city}, probé tres modelos

[complaint]
- delivery | {b} mi pedido {order} tenía que llegar hace {d} días. Sigo esperando {e}
- delivery | El repartidor dejó la caja de {b} bajo la lluvia en la puerta. Todo empapado {e}
- price_billing | ¿Por qué {b} me sigue cobrando {eur} si cancelé la suscripción hace semanas?? {e}
- price_billing | La {p} ha subido {eur} en un año. ¿En serio, {b}? {e}
- customer_service | He llamado {n} veces al servicio de atención de {b} y cada vez me dicen una cosa {e}
- customer_service | {b} llevo {d} días esperando respuesta a mi correo. ¿Hay alguien ahí?
- website_app | La app de {b} se cierra cada vez que intento desbloquear la bici. Aquí tirado en {city} {e}
- account_login | Llevo {d} días sin poder entrar en la app de {b}, y restablecer la contraseña no funciona
- product_quality | A las {n} semanas ya suena el guardabarros de mi {p}. Por ese precio esperaba más, {b} {e}
- product_quality | Se me ha vuelto a romper la cadena de la {b} {p}. Tercera vez este año {e}
- availability | La {p} lleva {n} semanas agotada en {b} y nadie sabe cuándo vuelve
- returns_refunds | Devolví la bici a {b} hace {d} días y todavía no me han reembolsado {e}
- store_experience,customer_service | En la tienda de {b} en {city} me dicen que pida online, y online que vaya a la
    tienda. Genial {e}

[question]
0 product_quality | {b} ¿se puede sacar la batería de la {p} para cargarla dentro de casa?
0 delivery,availability | ¿Alguien sabe cuánto tarda ahora la entrega de la {p} de {b}?
0 price_billing | ¿{b} tiene algún plan de financiación sin intereses?
0 website_app | ¿Cómo vinculo mi {p} con la nueva app de {b}? No encuentro la opción
0 product_quality | ¿La garantía del motor de {b} vale si la compro de segunda mano?
0 store_experience | {b} ¿la tienda de {city} abre los domingos?
0 product_quality | ¿Alguien ha hecho rutas largas con la {b} {p}? Todavía lo estoy pensando
0 sustainability | {b} ¿dónde puedo dejar mi batería vieja?

[suggestion]
0 delivery,customer_service | Consejo para {b}: poned la franja de entrega en el correo de confirmación, os ahorraríais
    muchas llamadas
0 website_app | Estaría genial un modo oscuro en la app de {b} {e}
0 store_experience | {b} ¿y un día de pruebas en {city}? Conozco a {n} personas interesadas
0 campaign_promotion,sustainability | ¿Por qué no un plan renove para bicis viejas, {b}? Haría el cambio mucho más
    fácil

[chatter]
0 - | Esta mañana conté {n} bicis {b} delante de la estación de {city}. Ya están por todas partes
0 - | Ruta de {km} km el domingo, la {p} se viene {e}
0 - | Un compañero se acaba de comprar una {b}, a ver qué le parece
0 campaign_promotion | Otra vez el anuncio de {b} en la radio, ya tengo la canción metida en la cabeza
0 - | ¿{b} o una bici normal? El eterno debate en casa {e}
0 store_experience | Mañana pruebo la {p} en la tienda de {b} en {city}

[news]
0 store_experience | {b} abre una nueva tienda en {city} — El fabricante de bicicletas eléctricas se expande con un
    showroom y taller el próximo mes.
0 price_billing | {b} sube el precio de sus bicis eléctricas un {pct} % de media — La empresa alega mayores costes de
    baterías y transporte.
0 product_quality | Probamos la {b} {p}: cómoda pero cara — Nuestra redacción la usó durante {n} semanas.
+ sustainability | {b} lanza un programa de recogida de baterías usadas — Los clientes pueden entregarlas en todas las
    tiendas.

[reply]
- - (complaint) | Me pasa exactamente lo mismo con {b}, ya van {d} días {e}
+ customer_service (praise) | Qué raro, a mí {b} me lo solucionó en {n} días
0 customer_service (suggestion) | ¿Has probado el chat de {b}? A mí me contestan mucho antes que por correo
+ product_quality (praise) | Llevo {n} años con una {b} y nunca he tenido problemas {e}
- - (complaint) | Esto. {b} tiene que arreglarlo ya
0 product_quality (question) | ¿Qué {p} tienes, la nueva o el modelo anterior?

[comparison]
+ product_quality | Dudaba entre {b} y {c}, al final me quedé con {b} por la autonomía
- delivery | {c} entrega en {n} días, {b} en {d} semanas. Decisión fácil
+ product_quality | Probé la {b} {p} y una {c}. La {b} se nota mucho más sólida
- customer_service | Lo siento {b}, pero la atención al cliente de {c} es mejor

[webcare]
0 customer_service | Hola {u}, ¡sentimos mucho las molestias! ¿Nos mandas tu número de pedido por MD? Lo revisamos
    ahora mismo. ^{agent}
0 customer_service | {u} ¡Perdona la espera! Tu correo ya lo tienen nuestros especialistas, hoy mismo te contestamos.
    ^{agent}
+ availability | Hola {u}, buenas noticias: la {p} vuelve a estar disponible la semana que viene. ^{agent}
+ - | ¡Muchas gracias {u}! A disfrutar de la ruta {e} ^{agent}
0 website_app | {u} Eso no debería pasar. ¿Puedes reinstalar la app y decirnos si así funciona? ^{agent}

[crisis_origin]
- safety,product_quality | Esta mañana la batería de mi {b} {p} se ha incendiado mientras se cargaba en el pasillo. Han
    tenido que venir los bomberos, la casa llena de humo. Podrían haber sido mis hijos. ¿Cómo es posible?? {e}

[crisis_quote]
- safety | Todo el que tenga una {b} tiene que leer esto 👇 «{q}»
- safety | Qué miedo. No carguéis la {b} {p} por la noche de momento. «{q}»
- safety | Si esto es verdad, {b} tiene que retirar la {p} ya. «{q}»

[crisis_copycat]
- safety | Mi {b} {p} también se pone ardiendo al cargar. Ahora me da miedo enchufarla {e}
- safety | A mí la batería de la {p} también olía a plástico quemado la semana pasada. {b} me dijo que era normal {e}
- safety | Tercer mensaje hoy sobre una batería de {b} que se incendia. Esto ya no es casualidad
- safety | {b} ayer mi {p} dio un error y la batería estaba ardiendo. ¿Qué hago?
- safety | Mi {p} está desterrada al trastero. Gracias, {b} {e}
- safety,price_billing | Pagas {price} por una bici y pasa esto. Vergonzoso, {b} {e}

[crisis_question]
0 safety | {b} ¿va a haber una retirada de la {p}? Una respuesta clara, por favor
- safety | ¿Es seguro seguir cargando la {p} dentro de casa? {b} no dice nada
0 safety | ¿Alguien sabe si solo afecta a la {p} o también a otros modelos de {b}?
0 safety,store_experience | {b} ¿puedo llevar mi batería a revisar a la tienda de {city}?

[crisis_reply]
- safety | Qué miedo, menos mal que estáis todos bien. {b} tiene que tomarse esto en serio
- safety (other) | Terrible. Ojalá {b} responda rápido
- safety | Mismo modelo aquí, a partir de ahora la cargo fuera
- safety,customer_service | {b} ¿por qué todavía no hay ninguna respuesta a esto??
- safety (suggestion) | Denúncialo a Consumo, esto hay que investigarlo
- safety | Mi vecino en {city} tiene la misma {p}, le aviso ahora mismo
- safety | Por eso nunca cargo la batería por la noche {e}
- safety,customer_service | Publicado hace {h} horas y {b} sigue sin decir nada. Lo dice todo {e}
- safety | Tengo mi {p} desde hace {n} años, esta noche se va al trastero
- safety (question) | ¿De qué año es tu {p}? Quiero saber si la mía también está afectada

[crisis_news]
0 safety | {b} investiga informes de baterías que se sobrecalientan — Tras varios avisos en redes sociales, el
    fabricante dice que está examinando la {p}.
- safety | Incendio en una vivienda de {city}, posiblemente causado por una batería de {b} — Los bomberos investigan.
- safety | Clientes de {b} preocupados tras los incendios de baterías — La empresa aconseja no dejar la {p} cargando
    sin vigilancia.

[crisis_defend]
+ product_quality | Llevo {n} años con una {b} {p} y nunca he notado nada. Esperemos a la investigación
0 safety | Cualquier batería puede sobrecalentarse con un cargador equivocado. No culpéis a {b} tan rápido
+ product_quality | Mi {b} sigue siendo la mejor bici que he tenido, basta con cargarla fuera

[crisis_competitor]
- safety | Qué alegría haber elegido {c} y no {b} {e}
- safety | Cambio mi {b} por una {c}. No quiero un incendio en casa

[crisis_webcare]
0 safety,customer_service | Hola {u}, qué susto, nos alegra que nadie haya resultado herido. No vuelvas a cargar la
    bici y mándanos el número de cuadro por MD, hoy mismo te llamamos. ^{agent}
0 safety | {u} Nos tomamos muy en serio cada aviso sobre la batería de la {p} y lo investigamos con máxima prioridad.
    De momento, no la cargues sin vigilancia. ^{agent}
0 safety | Actualización: investigamos avisos de baterías de la {p} que se sobrecalientan. Consejo: no cargarla sin
    vigilancia. Más información hoy. ^{agent}
""",
)

TEMPLATES: dict[Lang, tuple[Template, ...]] = {"nl": NL, "en": EN, "de": DE, "fr": FR, "es": ES}


@dataclass(frozen=True, slots=True)
class LanguageVocab:
    """Slot material and platform places for one language."""

    cities: tuple[str, ...]
    hashtags: tuple[str, ...]
    crisis_hashtags: tuple[str, ...]
    interjections: tuple[str, ...]
    agents: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    handle_words: tuple[str, ...]
    currency_before: bool
    """``€49`` (True) or ``49 €`` (False)."""
    currency: str
    thousands: str
    news_sites: tuple[tuple[str, str], ...]
    """(domain, display name) of fictional outlets: no real newsroom is made to report invented events."""
    news_section: str
    subreddits: tuple[str, ...]
    mastodon_instances: tuple[str, ...]


# fmt: off
VOCAB: dict[Lang, LanguageVocab] = {
    "nl": LanguageVocab(
        cities=(
            "Amsterdam", "Utrecht", "Rotterdam", "Den Haag", "Eindhoven", "Groningen", "Zwolle", "Nijmegen",
            "Haarlem", "Arnhem", "Leiden", "Breda", "Gent", "Antwerpen",
        ),
        hashtags=("#fiets", "#ebike", "#fietsen", "#woonwerk", "#elektrischefiets"),
        crisis_hashtags=("#accubrand", "#veiligheid", "#terugroepactie"),
        interjections=("Jeetje.", "Wow.", "Oef.", "Serieus?", "Niet normaal.", "Pfff."),
        agents=("Lisa", "Mark", "Sanne", "Tom", "Yara"),
        first_names=(
            "Sanne", "Daan", "Lotte", "Bram", "Fleur", "Jeroen", "Anouk", "Thijs", "Marieke", "Ruben", "Eva",
            "Joris", "Iris", "Koen", "Femke", "Wouter", "Noor", "Pieter", "Lieke", "Sven",
        ),
        last_names=("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos"),
        handle_words=("fietst", "trapt", "onderweg", "030", "buiten", "nl"),
        currency_before=True,
        currency="€",
        thousands=".",
        news_sites=(
            ("fietsnieuws.example", "Fietsnieuws"),
            ("stadenfiets.example", "Stad & Fiets"),
            ("techblik.example", "TechBlik"),
        ),
        news_section="nieuws",
        subreddits=("thenetherlands", "fietsen", "ebikes"),
        mastodon_instances=("mastodon.nl", "mastodon.social", "toot.community"),
    ),
    "en": LanguageVocab(
        cities=(
            "London", "Manchester", "Bristol", "Leeds", "Dublin", "Edinburgh", "Cambridge", "Brighton", "Glasgow",
            "Cardiff", "Oxford", "York",
        ),
        hashtags=("#ebike", "#cycling", "#commute", "#bikelife", "#ebikes"),
        crisis_hashtags=("#recall", "#batteryfire", "#ebikesafety"),
        interjections=("Wow.", "Yikes.", "Jeez.", "Oh no.", "Seriously?", "Ugh."),
        agents=("Emma", "Josh", "Priya", "Sam", "Kate"),
        first_names=(
            "Emma", "Jack", "Olivia", "Harry", "Sophie", "Liam", "Chloe", "Noah", "Amelia", "Oscar", "Grace",
            "Ethan", "Isla", "Leo", "Freya", "Adam", "Maya", "Owen", "Ruby", "Finn",
        ),
        last_names=("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Hughes", "Patel", "Murphy"),
        handle_words=("rides", "cycles", "outdoors", "uk", "onwheels", "commutes"),
        currency_before=True,
        currency="£",
        thousands=",",
        news_sites=(
            ("ebikejournal.example", "E-Bike Journal"),
            ("urbanrider.example", "Urban Rider"),
            ("greencommute.example", "Green Commute"),
        ),
        news_section="news",
        subreddits=("ebikes", "cycling", "bicycling", "unitedkingdom"),
        mastodon_instances=("mastodon.social", "mastodon.online", "mas.to"),
    ),
    "de": LanguageVocab(
        cities=(
            "Berlin", "München", "Hamburg", "Köln", "Leipzig", "Freiburg", "Münster", "Frankfurt", "Dresden",
            "Wien", "Zürich", "Bremen",
        ),
        hashtags=("#ebike", "#Fahrrad", "#Pedelec", "#Radfahren", "#Verkehrswende"),
        crisis_hashtags=("#Akkubrand", "#Rückruf", "#Brandschutz"),
        interjections=("Krass.", "Oh je.", "Wow.", "Ernsthaft?", "Puh.", "Oha."),
        agents=("Julia", "Max", "Anna", "Jan", "Sophie"),
        first_names=(
            "Lena", "Jonas", "Hannah", "Lukas", "Mia", "Felix", "Lea", "Paul", "Laura", "Tim", "Sarah", "Niklas",
            "Katrin", "Moritz", "Johanna", "Florian", "Clara", "Stefan", "Marie", "Tobias",
        ),
        last_names=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann", "Koch"),
        handle_words=("radelt", "unterwegs", "faehrt", "draussen", "berlin", "rad"),
        currency_before=False,
        currency="€",
        thousands=".",
        news_sites=(("radwelt-magazin.example", "Radwelt Magazin"), ("pedelec-report.example", "Pedelec Report")),
        news_section="nachrichten",
        subreddits=("de", "Fahrrad", "ebikes"),
        mastodon_instances=("chaos.social", "troet.cafe", "mastodon.social"),
    ),
    "fr": LanguageVocab(
        cities=(
            "Paris", "Lyon", "Nantes", "Bordeaux", "Lille", "Strasbourg", "Grenoble", "Toulouse", "Rennes",
            "Bruxelles", "Montpellier", "Genève",
        ),
        hashtags=("#vélo", "#VAE", "#vélotaf", "#mobilité", "#ebike"),
        crisis_hashtags=("#rappel", "#incendie", "#sécurité"),
        interjections=("Ouf.", "Waouh.", "Sérieux ?", "Oh non.", "Incroyable.", "Hallucinant."),
        agents=("Camille", "Julien", "Sarah", "Nicolas", "Léa"),
        first_names=(
            "Camille", "Lucas", "Manon", "Hugo", "Chloé", "Louis", "Léa", "Jules", "Inès", "Théo", "Emma",
            "Nathan", "Sarah", "Arthur", "Juliette", "Antoine", "Zoé", "Maxime", "Clémence", "Romain",
        ),
        last_names=("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau"),
        handle_words=("roule", "velotaf", "enville", "pedale", "fr", "dehors"),
        currency_before=False,
        currency="€",
        thousands="\u202f",
        news_sites=(("velo-actu.example", "Vélo Actu"), ("mobilite-urbaine.example", "Mobilité Urbaine")),
        news_section="actualites",
        subreddits=("france", "velo", "ebikes"),
        mastodon_instances=("piaille.fr", "mamot.fr", "mastodon.social"),
    ),
    "es": LanguageVocab(
        cities=(
            "Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Málaga", "Valladolid", "Granada",
            "Palma", "Murcia",
        ),
        hashtags=("#bici", "#ebike", "#bicicleta", "#movilidad", "#biciurbana"),
        crisis_hashtags=("#incendio", "#retirada", "#seguridad"),
        interjections=("Madre mía.", "Uf.", "Vaya.", "¿En serio?", "Qué fuerte.", "Buf."),
        agents=("Lucía", "Carlos", "Marta", "Javi", "Ana"),
        first_names=(
            "Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Daniel", "Paula", "Álvaro", "Carmen", "Javier", "Elena",
            "Diego", "Laura", "Sergio", "Alba", "Marcos", "Irene", "Raúl", "Nerea", "Adrián",
        ),
        last_names=("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz"),
        handle_words=("pedalea", "enbici", "rueda", "urbana", "es", "ciclista"),
        currency_before=False,
        currency="€",
        thousands=".",
        news_sites=(("ciclismourbano.example", "Ciclismo Urbano"), ("movilidad-hoy.example", "Movilidad Hoy")),
        news_section="noticias",
        subreddits=("spain", "bicicletas", "ebikes"),
        mastodon_instances=("masto.es", "mastodon.social", "mastodon.online"),
    ),
}
# fmt: on

EMOJI: dict[str, tuple[str, ...]] = {
    "positive": ("😍", "🚲", "💚", "👌", "🙌", "✨", "😊", "👍", "🔋"),
    "neutral": ("🤔", "👀", "🚲", "🔋", "🙂", "📍"),
    "negative": ("😡", "🙄", "😤", "👎", "🤬", "😠", "😩", "💸"),
    "crisis": ("😱", "🔥", "😨", "⚠️", "😡", "🚒"),
}
