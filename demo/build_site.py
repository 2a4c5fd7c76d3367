#!/usr/bin/env python3
"""Deterministic generator for the bundled offline demo news site.

Run from anywhere:  python3 demo/build_site.py
It (re)writes demo/site/ and demo/site-edition2/ and then runs self-checks.
No randomness, no clock: output is byte-identical on every run.

All publishers, people, places and stories are fictional.
"""

import hashlib
import html
import json
import re
import shutil
import struct
import sys
import zlib
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SITE = ROOT / "site"
ED2 = ROOT / "site-edition2"
BASE = "{{BASE}}"
AGENCY = "Continental Press Agency"


def esc(s):
    return html.escape(s, quote=False)


def attr(s):
    return html.escape(s, quote=True)


def paras(text):
    """Split a block of text into paragraphs on blank lines."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        out.append(" ".join(line.strip() for line in block.splitlines()).strip())
    return out


PUBS = {
    "harbor": dict(
        name="The Harbor Courier",
        lang="en",
        locale="en_US",
        inlang="en-US",
        tz=timezone(timedelta(hours=-5)),
        feed="feed.rss",
        feed_type="application/rss+xml",
        description="News from Port Carrick and the Carrick Sound waterfront.",
        sections=["Local", "Politics", "Business", "Nation", "Science", "Sports", "Culture"],
    ),
    "ledger": dict(
        name="Lakeside Ledger",
        lang="en",
        locale="en_GB",
        inlang="en-GB",
        tz=UTC,
        feed="atom.xml",
        feed_type="application/atom+xml",
        description="News, sport and community life from Wrenmere and the Corran valley.",
        sections=["News", "Environment", "Business", "Health", "Education", "Sport", "Arts"],
    ),
    "nordpost": dict(
        name="Nordpost",
        lang="de",
        locale="de_DE",
        inlang="de-DE",
        tz=timezone(timedelta(hours=1)),
        feed="rss.rdf",
        feed_type="application/rdf+xml",
        description="Nachrichten aus Nordhafen und der Region an der Förde.",
        sections=["Lokales", "Politik", "Wirtschaft", "Wissenschaft", "Kultur", "Sport"],
    ),
}

# Strings that are page furniture ("noise") per publisher.
NOISE = {
    "harbor": dict(
        readmore="READ MORE:",
        related="Related stories",
        mostread="Most read",
        newsletter=[
            "Sign up for our morning briefing",
            "Get the top Port Carrick stories in your inbox every weekday at 6 a.m.",
        ],
        share=["Share on X", "Share on Facebook", "Share via Email"],
        cookie="We use cookies to improve your experience and to show you relevant advertising.",
        ad="Advertisement",
        footer="© 2026 The Harbor Courier. All rights reserved.",
    ),
    "ledger": dict(
        readmore="Read more",
        related="More on this topic",
        mostread=None,
        newsletter=[
            "The Ledger Daily",
            "Our editors' pick of the day's news from around the lake, free in your inbox every morning.",
        ],
        share=["Share on X", "Share on Facebook", "Email this article"],
        cookie="This site uses cookies. By continuing to browse you are agreeing to our use of cookies.",
        ad="Advertisement",
        footer="© 2026 Lakeside Ledger Ltd. All rights reserved.",
    ),
    "nordpost": dict(
        readmore="Lesen Sie auch:",
        related="Mehr zum Thema",
        mostread="Meistgelesen",
        newsletter=[
            "Der Nordpost-Morgenbrief",
            "Die wichtigsten Nachrichten aus Nordhafen jeden Morgen kostenlos in Ihrem Postfach.",
        ],
        share=["Artikel teilen:", "Auf X teilen", "Auf Facebook teilen", "Per E-Mail teilen"],
        cookie="Wir verwenden Cookies, um Inhalte zu personalisieren und die Zugriffe auf unsere Website zu analysieren.",
        ad="Anzeige",
        footer="© 2026 Nordpost Verlag GmbH",
    ),
}

MOST_READ = {
    "harbor": [
        "gulls-league-title",
        "water-street-flooding",
        "budget-tax-cut",
        "port-expansion-vote",
        "seal-count",
    ],
    "nordpost": [
        "sturmflut-promenade",
        "weihnachtsmarkt",
        "handball-tabellenfuehrer",
        "faehre-moevholm",
        "theater-premiere",
    ],
}

ARTICLES = []


def art(
    pub,
    slug,
    when,
    title,
    teaser,
    section,
    tags,
    authors,
    body,
    images,
    readmore,
    upd=0,
    paywalled=False,
    agency=None,
    group=None,
    edition2=None,
):
    """Register one article.

    when: local time "YYYY-MM-DD HH:MM" in the publisher's offset.
    upd: minutes between publication and last modification (edition 1).
    images: list of (alt, caption, credit, after) -- after=0 is the lead image,
            after=n places the image after body paragraph n.
    edition2: dict(body=[...], modified="YYYY-MM-DD HH:MM" local) for the edited article.
    """
    tz = PUBS[pub]["tz"]
    published = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    body = paras(body) if isinstance(body, str) else list(body)
    a = dict(
        pub=pub,
        slug=slug,
        published=published,
        modified=published + timedelta(minutes=upd),
        title=title,
        teaser=teaser,
        section=section,
        tags=tags,
        authors=authors,
        body=body,
        images=images,
        readmore=readmore,
        paywalled=paywalled,
        agency=agency,
        group=group,
        edition2=None,
    )
    if edition2:
        a["edition2"] = dict(
            body=paras(edition2["body"]) if isinstance(edition2["body"], str) else edition2["body"],
            modified=datetime.strptime(edition2["modified"], "%Y-%m-%d %H:%M").replace(tzinfo=tz),
        )
    ARTICLES.append(a)
    return a


# ---------------------------------------------------------------------------
# Continental Press Agency wire stories (shared bodies)
# ---------------------------------------------------------------------------

CPA1_FIRST_TAIL = (
    "The benchmark index compiled by analysts at Meridian Freight Data fell "
    "6 percent in October compared with September, leaving it about a third "
    "below its level a year ago."
)
CPA1_SHARED = paras("""
Shipyards delivered a record number of large container vessels over the past two years,
fulfilling orders that carriers placed when rates soared during earlier supply chain
disruptions. Many of those ships are now sailing partly empty, and carriers are competing
hard on price to fill them before the slow season after the holidays.

"We are looking at overcapacity that will take at least two years to work through," said
Hanne Vollmer, a senior analyst at Meridian. "Carriers can slow their ships down and skip
sailings, but there is only so much they can do when the fleet keeps growing every month."

Several major carriers have already announced so-called blank sailings for December,
cancelling scheduled voyages to take capacity out of the market. Others are sending older
ships to scrapyards earlier than planned or parking them at anchor in quiet bays.

Lower freight costs are welcome news for importers, especially retailers stocking shelves
for the holiday season. A trade group representing furniture importers said its members were
now paying less than half of what they paid per container three years ago.

Economists caution that the savings take time to reach consumers. Shipping is only one part
of the cost of imported goods, and many importers signed annual contracts at higher rates
earlier in the year that will not expire until the spring.

For ports, the picture is mixed. Volumes at most large terminals remain steady, but some
smaller ports have lost weekly calls as carriers consolidate routes to fill their biggest
ships.

Meridian expects rates to stabilize in the spring, when new ship deliveries are scheduled to
slow. Vollmer said a sharp rebound was unlikely before the end of next year.
""")

CPA2_FIRST_TAIL = (
    "The warning came in an annual winter assessment published Wednesday by the "
    "Continental Grid Reliability Council, an industry body that coordinates "
    "planning among regional operators."
)
CPA2_SHARED = paras("""
Demand for electricity has been climbing after years of little change, driven by data
centers, new factories and the spread of electric heating in homes. The council's report
projects that peak winter demand will be about 4 percent higher than last year.

At the same time, several older coal and gas plants have closed, and the wind and solar
farms that replaced them produce less power on the coldest, darkest days. Battery storage
has expanded quickly but can supply power for only a few hours at a time.

"In a normal winter, we expect the system to be fine," said council president Margaret
Osei. "The concern is an extreme event that lasts several days, where demand is high
everywhere at once and neighbors cannot lend each other power."

The report singled out regions that rely heavily on natural gas for both heating and power
generation. During a deep freeze, pipelines can struggle to deliver enough fuel to homes and
power plants at the same time, and some plants have failed in past storms because equipment
froze.

Operators have asked large industrial customers to sign up for programs that pay them to
cut consumption during emergencies. Some have also delayed the retirement of older plants,
keeping them on standby through the winter months.

Consumer groups said households should not panic but urged people to prepare. They
recommended having heating systems serviced and keeping a supply of blankets, batteries and
drinking water at home in case of outages.

The council will update its outlook in January if long-range forecasts point to an unusually
cold February. Osei said the best outcome would be a mild winter that made the report look
overly cautious.
""")


def wire_body(lede, tail, shared, cut=False, extra=None):
    body = [lede + " " + tail] + (shared[:-2] if cut else list(shared))
    if extra:
        body.append(extra)
    return body


# ---------------------------------------------------------------------------
# The Harbor Courier (Port Carrick) -- RSS 2.0, -05:00
# ---------------------------------------------------------------------------
H = "harbor"

art(
    H,
    "ferry-weekend-closures",
    "2026-11-02 06:30",
    "Ferry riders brace for weekend closures as Narrows Bridge repairs begin",
    "The Carrick Sound ferry will skip the Narrows landing on six weekends while crews replace the bridge deck above it.",
    "Local",
    ["Transportation", "Ferries", "Narrows Bridge", "Commuting"],
    ["Marcus Bell"],
    """
Commuters who rely on the Carrick Sound ferry will lose weekend service at the Narrows landing
for six weekends starting this Saturday, as state crews begin replacing the deck of the
Narrows Bridge directly overhead. The ferry operator said boats will continue to run between
downtown and Shell Island but will not stop at the Narrows while the work is under way.

The bridge, which opened in 1961, carries about 41,000 vehicles a day and has been rated in
poor condition since an inspection two years ago found corroded steel beneath the eastbound
lanes. Engineers plan to lift out old deck sections with a floating crane, which is why the
landing below must be cleared.

Ferry manager Grace Tillman said the operator considered moving the stop a few hundred yards
south but could not find a pier deep enough for the boats at low tide. "We know this is a real
hassle for people who work weekends," she said. "We would rather close the landing than put
passengers on a temporary dock that is not safe."

Shuttle buses will run every 20 minutes between the Narrows landing and the downtown terminal
on closure weekends, the transit authority said. Riders with monthly passes can use the
shuttles at no extra charge.

Some riders said the shuttle would add at least half an hour to their trips. Devon Price, a
cook who takes the ferry to a restaurant on Shell Island, said he had already asked his
manager for later shifts. "On a good day the boat is twelve minutes," he said. "Now I am
looking at two buses and a boat."

The state transportation department expects the full deck replacement to finish by late
spring. After the weekend closures end in December, crews will work mostly at night, with
single-lane closures on the bridge itself but no further interruption to ferry service.

A full schedule of closure dates is posted at the downtown terminal and on the transit
authority's website.
""",
    [
        (
            "Ferry approaching a landing under a steel bridge",
            "A Carrick Sound ferry approaches the Narrows landing beneath the bridge on Monday morning.",
            "Photo: Keisha Grant/The Harbor Courier",
            0,
        )
    ],
    readmore="water-street-flooding",
    upd=95,
)

art(
    H,
    "port-expansion-vote",
    "2026-11-03 06:40",
    "Council approves $48 million expansion of Port Carrick's east terminal",
    "The 7-2 vote clears the way for two new berths and a rail spur, but neighbors in Gannet Hill worry about truck traffic.",
    "Local",
    ["Port Carrick", "City Council", "East Terminal", "Shipping"],
    ["Anna Kowalski"],
    """
The Port Carrick City Council voted 7-2 on Monday night to approve a $48 million expansion of
the east terminal, ending more than a year of debate over how far the city should go to
compete for container traffic. The plan adds two deep-water berths, a rail spur and a covered
warehouse on land the city bought from a bankrupt lumber company in 2023.

Supporters said the project would keep the port relevant as shipping lines move to larger
vessels that the current berths cannot handle. Harbor Commissioner Linda Farrow told the
council that two carriers had already asked about weekly calls once the new berths open,
which is expected in the spring of 2029.

"We are not building this for the port we have, we are building it for the port we need in
twenty years," Farrow said. She estimated the expansion would support about 340 permanent
jobs, most of them in cargo handling and trucking.

The two dissenting votes came from council members representing the Gannet Hill neighborhood,
which sits directly uphill from the terminal gates. Councilwoman Teresa Almeida said residents
already put up with idling trucks on Cable Street and had received no firm promise that the
rail spur would take freight off local roads.

More than sixty people signed up to speak during the public comment period, which stretched
past 11 p.m. Several longshoremen in union jackets urged approval, while a group of parents
from Gannet Hill Elementary carried hand-lettered signs asking for an air-quality monitor near
the schoolyard.

In response, the council attached two conditions to the vote. The port authority must install
air monitors at three locations before construction begins, and it must report truck counts
on Cable Street to the council every quarter for five years.

Funding will come from a mix of port revenue bonds, a $15 million federal grant awarded last
summer and a smaller state contribution. City finance director Owen Marsh said the bonds would
be repaid from terminal fees and would not touch the general fund.

Construction bids are due in February. The port authority said it hopes to break ground
before the end of next summer.
""",
    [
        (
            "Container cranes over a terminal at dusk",
            "Cranes stand over the east terminal at dusk on Monday, hours before the council vote.",
            "Photo: Maria Lopez/The Harbor Courier",
            0,
        ),
        (
            "Dock workers seated in a council chamber",
            "Longshoremen listen to public comment during Monday's council meeting at City Hall.",
            "Photo: Ben Hadley/The Harbor Courier",
            5,
        ),
    ],
    readmore="container-rates-slide",
    upd=205,
)

art(
    H,
    "shark-tagging-study",
    "2026-11-05 11:00",
    "Marine lab tags first juvenile sand tiger sharks in Carrick Sound",
    "Researchers say the young sharks suggest the sound may serve as a nursery ground for the slow-breeding species.",
    "Science",
    ["Marine Science", "Sharks", "Carrick Sound", "Research"],
    ["Denise Okoro"],
    """
Scientists at the Shell Island Marine Laboratory have fitted acoustic tags to five juvenile
sand tiger sharks caught in Carrick Sound, the first time the species has been documented
this far up the sound. The sharks, each less than four feet long, were released within
minutes of being measured.

Sand tigers reproduce slowly, giving birth to only one or two pups every other year, and
researchers have long tried to pin down where the young spend their first seasons. Lead
scientist Naomi Achterberg said finding several juveniles in the same area suggests the sound
may be functioning as a nursery.

The tags emit a coded ping that is picked up by a network of 38 underwater receivers the lab
has anchored along the channel and near the mouth of the sound. Each receiver logs the time
and identity of any tagged animal that swims within about a quarter mile.

"Every detection is a small piece of the puzzle," Achterberg said. "If these animals come
back next summer, and the summer after that, we can start to say with confidence that this is
habitat that matters."

The work is funded by a three-year grant from a regional fisheries foundation. Local charter
captains helped by reporting sightings and, in two cases, by taking researchers to spots
where small sharks had been seen.

Sand tiger sharks look fearsome, with rows of ragged teeth visible even when their mouths are
closed, but they are not considered a threat to swimmers. The lab stressed that none of the
tagged animals had been involved in any incident with people.

The researchers plan to publish their first year of tracking data next fall and will hold a
public talk on the project at the Shell Island visitor center in January.
""",
    [
        (
            "Scientist holding a small shark on a boat deck",
            "A researcher measures a juvenile sand tiger shark before releasing it in Carrick Sound.",
            "Photo: Shell Island Marine Laboratory",
            0,
        ),
        (
            "Yellow underwater receiver on a dock",
            "An acoustic receiver is readied for deployment off the laboratory dock.",
            "© Coastline Images / Erik Sand",
            3,
        ),
    ],
    readmore="seal-count",
)

art(
    H,
    "school-board-recount",
    "2026-11-06 08:45",
    "School board race heads to recount after 37-vote margin",
    "Challenger Priscilla Dunn leads incumbent Walter Haines in District 3, but the margin is close enough to trigger an automatic recount.",
    "Politics",
    ["Elections", "School Board", "Recount", "Education"],
    ["Ray Castellano", "Julia Whitcomb"],
    """
The race for the District 3 seat on the Port Carrick school board will go to a recount after
final unofficial results showed challenger Priscilla Dunn ahead of incumbent Walter Haines by
just 37 votes out of more than 9,800 cast. County election officials said the margin falls
inside the threshold that triggers an automatic recount.

Dunn, a former middle school science teacher, ran on a promise to reopen the district's
shuttered vocational wing and to publish detailed spending reports online. Haines, who has
served two terms, pointed to rising graduation rates and a new contract with bus drivers that
ended a year of route cancellations.

Election director Carla Benitez said the recount would begin on Monday and should take three
to four days. Ballots will be run through the counting machines again, and a bipartisan team
will hand count a sample from each precinct to confirm the totals.

"A margin this small is exactly why the law requires a second look," Benitez said. "Nobody
should read anything sinister into it."

Both candidates said they would accept the outcome. Dunn thanked volunteers at a gathering in
a Cable Street coffee shop on Wednesday night, while Haines said in a statement that he wanted
every valid ballot counted.

Turnout in District 3 reached 46 percent, unusually high for a school board contest. Several
voters leaving the polls at the Harbor View community center said the debate over the
vocational wing had brought them out.

The two other board seats on the ballot were decided comfortably. Incumbents Rosa Mendez and
Clifford Yates both won new four-year terms.
""",
    [
        (
            "Election workers sorting envelopes at long tables",
            "Election workers sort mail ballots at the county elections office on Wednesday.",
            "Photo: Ben Hadley/The Harbor Courier",
            0,
        )
    ],
    readmore="budget-tax-cut",
    upd=30,
)

art(
    H,
    "container-rates-slide",
    "2026-11-09 10:20",
    "Container shipping rates slide for third month as new ships flood market",
    "Freight rates fell again in October as a record wave of new vessels outpaced demand for cargo space.",
    "Business",
    ["Shipping", "Economy", "Trade", "Freight"],
    ["Tomas Reyes"],
    wire_body(
        "Container shipping rates fell for a third straight month in October, as a wave of "
        "newly built ships arrived faster than demand for cargo space, according to "
        "industry figures released Monday.",
        CPA1_FIRST_TAIL,
        CPA1_SHARED,
        extra="In Port Carrick, cargo volumes at the east and west terminals were roughly "
        "flat in October, port authority figures show. Harbor Commissioner Linda "
        "Farrow said the city's planned terminal expansion was designed with a long "
        "horizon in mind and would not be affected by short-term swings in rates.",
    ),
    [
        (
            "Container ship leaving port",
            "A container ship leaves port loaded well below capacity in late October.",
            "Photo: Dana Whitfield/Continental Press Agency",
            0,
        )
    ],
    readmore="port-expansion-vote",
    agency=AGENCY,
    group="cpa-1",
)

art(
    H,
    "cannery-arts-hall",
    "2026-11-11 09:00",
    "Old Marlowe cannery reopens as a waterfront arts hall",
    "After six years and $11 million in renovations, the brick cannery on Pier 9 will host concerts, studios and a Saturday market.",
    "Culture",
    ["Arts", "Waterfront", "Historic Preservation", "Music"],
    ["Julia Whitcomb"],
    """
The Marlowe Brothers cannery on Pier 9, which packed sardines and later fish meal for nearly a
century before closing in 1998, reopened this week as a performance hall, artist studio
building and indoor market. Several hundred people lined up on the pier on Tuesday evening for
the first public concert in the restored main packing room.

The nonprofit Pier 9 Arts Trust bought the building from the city for one dollar in 2020 on
the condition that it raise money to stabilize the structure. Restoration ultimately cost
about $11 million, paid for by private donors, historic tax credits and a state cultural
facilities grant.

Architect Helena Strauss said the team kept as much of the original building as it could. The
worn maple floors, steel roof trusses and a row of rusted can-sealing machines now mounted
along one wall were all left in place. "We wanted people to feel the work that happened here,"
she said.

The main hall seats 420 people and will host a season of chamber music, folk concerts and
community theater. The upper floor has been divided into 18 studios that are rented to local
painters, potters and a small letterpress shop at below-market rates.

On Saturdays, the ground floor will host a market for local food producers, a return of sorts
to the building's roots. Ellen Marlowe, whose great-grandfather founded the cannery, attended
the opening and said she was moved to see the lights back on. "My grandmother worked on that
floor when she was sixteen," she said.

Not everyone welcomed the project. Some commercial fishermen who still use Pier 9 have
complained about parking and about crowds walking among working boats. The trust said it has
marked off a lane for fishing trucks and will keep the north end of the pier closed to
visitors.

The hall's first full season runs through May. Tickets for most events cost between $10 and
$25, with free admission for children under 12.
""",
    [
        (
            "Large brick hall with wooden floor and stage lights",
            "The restored main hall of the former Marlowe Brothers cannery before Tuesday's opening concert.",
            "Photo: Maria Lopez/The Harbor Courier",
            0,
        ),
        (
            "Row of old rusted machines along a brick wall",
            "Old can-sealing machines line a wall of the renovated building.",
            "Photo: Keisha Grant/The Harbor Courier",
            3,
        ),
    ],
    readmore="boatyard-sale",
    upd=60,
)

art(
    H,
    "gulls-league-title",
    "2026-11-13 22:40",
    "Carrick Gulls win first league title in 19 years",
    "A late header from captain Luis Ortega sealed a 2-1 win over Brookfield FC and set off celebrations at Harborside Field.",
    "Sports",
    ["Soccer", "Carrick Gulls", "Atlantic Coast League", "Championship"],
    ["Sam Pruitt"],
    """
The Carrick Gulls are champions again. Captain Luis Ortega headed in a corner in the 78th
minute on Friday night to give the Gulls a 2-1 win over Brookfield FC and their first Atlantic
Coast League title since 2007.

A crowd of 6,200, the largest at Harborside Field this season, spent most of the night on its
feet. When the final whistle blew, hundreds of fans spilled onto the field and carried
goalkeeper Eli Brandt toward the south stand, where the supporters group had unfurled a
banner reading "Nineteen Years of Waiting."

Brookfield took the lead in the 22nd minute when striker Kofi Mensah slipped behind the Gulls
defense and finished low to Brandt's left. The Gulls struggled to create chances until just
before halftime, when winger Andre Lindqvist cut inside and curled a shot into the far corner
to level the score.

Coach Martina Ruiz said she told her players at the break to stay patient. "We have been the
better team over thirty games," she said. "I told them the goal would come if they kept moving
the ball."

The winning goal came from a set piece the Gulls had practiced all week. Lindqvist swung the
corner toward the near post, defender Sean McBride flicked it on and Ortega, unmarked at the
far post, nodded it in from close range.

Ortega, 33, grew up three blocks from Harborside Field and joined the Gulls academy at age
nine. He said he had watched the 2007 title game from the stands as a teenager. "I remember
thinking I would never see it again," he said. "Now I get to lift the trophy in front of my own
family."

The Gulls will host a victory parade along Water Street on Sunday at noon. City officials said
the route would run from the ferry terminal to City Hall.
""",
    [
        (
            "Soccer player celebrating with arms raised",
            "Luis Ortega celebrates after scoring the winning goal against Brookfield FC on Friday night.",
            "Photo: Ben Hadley/The Harbor Courier",
            0,
        ),
        (
            "Crowd of fans on a soccer field at night",
            "Fans rush onto the field at Harborside Field after the final whistle.",
            "Photo: Keisha Grant/The Harbor Courier",
            4,
        ),
    ],
    readmore="cannery-arts-hall",
    upd=45,
)

art(
    H,
    "boatyard-sale",
    "2026-11-16 07:00",
    "Family-run Haskell boatyard sold to regional marine group",
    "The 74-year-old yard will keep its name and its 52 workers under Atlantic Marine Holdings, the new owner says.",
    "Business",
    ["Business", "Boatbuilding", "Acquisitions", "Jobs"],
    ["Marcus Bell"],
    """
Haskell and Sons Boatyard, which has built and repaired wooden and fiberglass boats on the
north shore of Port Carrick since 1952, has been sold to Atlantic Marine Holdings, a regional
company that owns five other yards along the coast. Terms of the sale were not disclosed.

Owner Ruth Haskell, 68, said she and her brother had spent three years looking for a buyer
who would keep the yard running rather than sell the waterfront land to developers. Neither of
their children wanted to take over the business, she said.

"I could have sold this place for condos and retired somewhere warm," Haskell said. "But there
are fifty-two people here who know how to do something most people have forgotten how to do,
and I was not going to be the one to end that."

Atlantic Marine chief executive Gordon Pike said the company would keep the Haskell name and
all current employees, and would invest in a new paint shed and a larger travel lift able to
haul boats of up to 80 tons. The yard's current lift tops out at 35 tons, which has forced it
to turn away larger fishing boats.

Pike said demand for repair work on commercial fishing vessels and ferries had outstripped the
capacity of yards in the region. Boat owners sometimes wait months for a haul-out slot, he
said.

Workers at the yard reacted cautiously. Shipwright Tony Ferraro, who has worked at Haskell for
31 years, said employees had been told their wages and benefits would not change for at least
two years. "It is a relief that the doors stay open," he said. "We will see what happens after
that."

Ruth Haskell will stay on as a consultant for the first year. The sale is expected to close by
the end of December.
""",
    [
        (
            "Fishing boat propped on blocks in a boatyard",
            "A fishing boat sits on blocks at the Haskell and Sons Boatyard on Friday.",
            "Photo: Maria Lopez/The Harbor Courier",
            0,
        )
    ],
    readmore="port-expansion-vote",
    paywalled=True,
)

art(
    H,
    "winter-power-squeeze",
    "2026-11-18 13:10",
    "Grid operators warn of winter power squeeze as demand climbs",
    "A prolonged cold snap could push electricity demand past anything the grid has handled, an industry council says.",
    "Nation",
    ["Energy", "Electricity", "Power Grid", "Winter"],
    ["Priya Natarajan", "Lukas Werner"],
    wire_body(
        "Electricity grid operators across the continent are warning of tighter power "
        "supplies this winter, saying a prolonged cold snap could push demand past any "
        "level their systems have handled before.",
        CPA2_FIRST_TAIL,
        CPA2_SHARED,
        cut=True,
    ),
    [
        (
            "Transmission lines crossing farmland",
            "High-voltage transmission lines run across farmland near a gas-fired power station.",
            "Photo: Jonah Mireault/Continental Press Agency",
            0,
        )
    ],
    readmore="water-street-flooding",
    agency=AGENCY,
    group="cpa-2",
)

art(
    H,
    "water-street-flooding",
    "2026-11-20 15:30",
    "Nor'easter floods low-lying Water Street as tide tops seawall",
    "Shopkeepers bailed out basements and police closed six blocks after the storm surge arrived with Friday morning's high tide.",
    "Local",
    ["Weather", "Flooding", "Storms", "Water Street"],
    ["Anna Kowalski"],
    """
A slow-moving nor'easter pushed seawater over the Water Street seawall on Friday morning,
flooding six blocks of the waterfront business district and forcing police to close the
street to traffic for most of the day. The surge arrived just after high tide, when the water
in the harbor peaked at nearly three feet above normal.

By 9 a.m., water was ankle-deep outside the shops between Union Street and the ferry terminal,
and several basements had filled to the ceiling. Firefighters used pumps to clear the lower
level of the Water Street parking garage, where about forty cars were left partly submerged.

Linh Tran, who owns a bakery near the corner of Union Street, spent the morning moving flour
sacks to an upstairs storeroom. "We knew it was coming, we just did not expect it this high,"
she said. "The last time water came in the door was 2018."

The weather service had issued a coastal flood warning on Thursday afternoon. Wind gusts
reached 58 miles per hour at the harbor entrance overnight, and about 3,400 homes and
businesses lost power at the height of the storm, according to the utility.

City engineer Patrick Doyle said the seawall, built in the 1930s, is about a foot lower than
recommended for current tide levels. A plan to raise and extend it has been in design for two
years but has no construction funding yet. "Days like today are exactly what that project is
for," Doyle said.

No injuries were reported. Public works crews planned to sweep debris and inspect storm drains
overnight, and the city said Water Street would reopen Saturday morning if the afternoon high
tide passed without further flooding.

Business owners whose property was damaged can report losses to the city's emergency
management office, which is collecting information for a possible state disaster declaration.
""",
    [
        (
            "Flooded street with shop fronts",
            "Water covers Water Street near the ferry terminal on Friday morning.",
            "Photo: Keisha Grant/The Harbor Courier",
            0,
        )
    ],
    readmore="budget-tax-cut",
    upd=150,
)

art(
    H,
    "seal-count",
    "2026-11-23 12:00",
    "Volunteers count record 212 harbor seals in annual survey",
    "The tally is the highest since the count began in 1994, a sign that cleaner water is drawing seals back to the outer islands.",
    "Science",
    ["Wildlife", "Harbor Seals", "Volunteers", "Environment"],
    ["Denise Okoro"],
    """
Volunteers counted 212 harbor seals hauled out on the rocks of the outer islands during the
annual fall survey on Saturday, the highest number recorded since the count began in 1994.
Last year's survey found 171 seals.

About forty volunteers took part, spread across eight boats and two observation points on the
Shell Island bluffs. Each team counted seals on an assigned stretch of ledges during the two
hours around low tide, when the most animals are out of the water.

Survey coordinator Bill Ostrowski, a retired high school biology teacher who has taken part in
every count since the first one, said the increase reflects years of improvement in the
harbor's water quality. Fish that seals feed on, including herring and sand lance, have become
more common as sewage overflows have been reduced.

"When I started, we were happy to see thirty seals," Ostrowski said. "Now there are ledges
where you cannot count them fast enough."

Scientists at the Shell Island Marine Laboratory, who help design the survey, cautioned that a
single count can swing with weather and tides. Saturday was calm and sunny, which tends to
bring more seals onto the rocks.

The lab also reminded boaters and kayakers to stay at least 150 feet away from seals resting
on shore. Animals that are repeatedly disturbed can abandon good resting spots, and pups born
in late spring are especially vulnerable.

Gray seals, which are larger and were almost absent from the area two decades ago, were also recorded in small numbers. Volunteers counted nine of them on the outermost ledge, up from four last year.

Results from this year's survey will be shared with state wildlife officials. Organizers said
they are already looking for volunteers for next year's count, especially people with boats.
""",
    [
        (
            "Seals resting on a rocky ledge",
            "Harbor seals rest on a ledge off the outer islands during Saturday's survey.",
            "© Coastline Images / Erik Sand",
            0,
        )
    ],
    readmore="shark-tagging-study",
)

art(
    H,
    "budget-tax-cut",
    "2026-11-25 17:20",
    "Mayor proposes first property tax cut in a decade",
    "Mayor Delia Romero's $612 million budget trims the tax rate by 2 percent while adding firefighters and library hours.",
    "Politics",
    ["City Budget", "Taxes", "Mayor", "City Council"],
    ["Ray Castellano", "Anna Kowalski"],
    """
Mayor Delia Romero on Wednesday proposed a $612 million budget for next year that would cut
the city's property tax rate by 2 percent, the first reduction in a decade. Romero said rising
revenue from the port and from new construction downtown gave the city room to return money
to homeowners.

The cut would save the owner of a median-priced home about $110 a year, according to the
mayor's office. Commercial property owners would see a similar percentage reduction.

The budget also adds twelve firefighter positions, restores Sunday hours at three branch
libraries and sets aside $4 million toward the design of a raised seawall on Water Street,
which flooded during last week's storm.

"We can keep our promises on public safety and still give people a break," Romero said at a
news conference in the City Hall rotunda. "This is what a growing city should be able to do."

Council President Harold Weems said he welcomed the tax cut but wanted a closer look at the
city's revenue projections. He noted that port fees had been higher than expected for two
years running and warned that a downturn in shipping could leave a hole in the budget.

Union leaders representing city workers said they were disappointed that the budget did not
include raises beyond a 2.5 percent cost-of-living adjustment. Contract talks with the largest
municipal union are scheduled to resume in January.

Romero also proposed a new fee on short-term rental properties, which she said would raise about $1.8 million a year for affordable housing programs. Owners of vacation rentals in the waterfront districts have already signaled that they will oppose the fee at the council hearings.

The council will hold three public hearings on the budget in December and must adopt a final
version by the end of January.
""",
    [
        (
            "Woman speaking at a podium in a domed hall",
            "Mayor Delia Romero presents her budget proposal at City Hall on Wednesday.",
            "Photo: Ben Hadley/The Harbor Courier",
            0,
        )
    ],
    readmore="water-street-flooding",
    upd=70,
)


# ---------------------------------------------------------------------------
# Lakeside Ledger (Wrenmere, Lake Corran) -- Atom 1.0, UTC
# ---------------------------------------------------------------------------
L = "ledger"

art(
    L,
    "lake-water-quality",
    "2026-11-02 08:00",
    "Lake Corran water quality improves for third year running, survey finds",
    "Clearer water and fewer algal blooms are being credited to upgraded sewage works and changes in farming along the river.",
    "Environment",
    ["Lake Corran", "Water Quality", "Environment", "Wildlife"],
    ["Fiona McAllister"],
    """
Water quality in Lake Corran has improved for the third year in a row, according to the annual
survey published by the Corran Catchment Trust on Monday. Clarity readings taken across the
summer were the best since the trust began monitoring in 2009, and the lake recorded just two
days of toxic algal bloom warnings, down from eleven in 2023.

The trust credits much of the improvement to upgrades at sewage treatment works in Wrenmere
and Holmbridge, which were completed last spring and cut the amount of phosphorus reaching the
lake. Phosphorus feeds the blue-green algae that turn the water green in warm weather and can
make dogs seriously ill.

Farmers in the upper valley have also played a part. Around forty farms have signed up to a
scheme that pays them to plant buffer strips along streams and to store slurry over winter
rather than spreading it on wet fields.

"This is what happens when everyone pulls in the same direction," said Ruth Calloway, the
trust's senior scientist. "But the lake has a long memory. There is a lot of phosphorus locked
up in the sediment, and a few hot summers could undo some of this progress."

The survey also found more aquatic plants in the shallow bays at the northern end of the lake,
which provide shelter for young fish. Anglers have reported better catches of perch and roach
this season.

Swimmers have noticed the difference too. The Wrenmere Open Water Club said its membership had
doubled since 2022, with regular dawn swims from the public beach at Lantern Point throughout
the summer.

The trust is now asking the water company to bring forward improvements at a smaller treatment
works in the village of Fellside Bridge, which still discharges untreated sewage during heavy
rain several times a year.
""",
    [
        (
            "Paddleboarders on a calm lake",
            "Paddleboarders on Lake Corran near Lantern Point in August.",
            "Picture: Nadia Frost/Lakeside Ledger",
            0,
        )
    ],
    readmore="tree-planting",
    upd=25,
)

art(
    L,
    "dairy-site-homes",
    "2026-11-04 17:30",
    "Councillors back plan for 120 homes on former dairy site",
    "The scheme on Mill Lane includes 36 affordable homes, but neighbours fear extra traffic on a narrow road.",
    "News",
    ["Housing", "Planning", "Wrenmere", "District Council"],
    ["Owen Pritchard"],
    """
Plans to build 120 homes on the site of the former Corran Valley Dairy in Wrenmere were
approved by the district council's planning committee on Wednesday, despite objections from
residents worried about traffic on Mill Lane. The committee voted six to three in favour after
a meeting lasting nearly four hours.

The developer, Fellgate Homes, will build a mix of two, three and four-bedroom houses along
with a small block of flats. Thirty-six of the homes will be classed as affordable, with twenty
offered for social rent through a housing association.

The dairy closed in 2019 after more than a century in operation, and its buildings have stood
empty since. Several attempts to find a new industrial use for the site failed, and the council
identified it for housing in its local plan two years ago.

Residents of Mill Lane told the committee that the road was already too narrow for two lorries
to pass and had no pavement for much of its length. Margaret Holt, who has lived on the lane
for forty years, said parents walking children to school had to step into hedges to let cars
by.

The developer has agreed to pay for a new footpath along the lane and a set of traffic lights
at the junction with the main road. It will also contribute £450,000 towards extra places at
Wrenmere Primary School.

Committee chair David Mason said the district badly needed homes that young families could
afford. "We hear every week from people who grew up here and cannot find anywhere to live," he
said. "This site has been derelict for seven years."

Construction is expected to start next summer and take about three years. Opponents have six
weeks to ask for a judicial review of the decision.
""",
    [
        (
            "Derelict industrial buildings behind a fence",
            "The derelict buildings of the former Corran Valley Dairy on Mill Lane.",
            "Picture: Tom Ashby/Lakeside Ledger",
            0,
        )
    ],
    readmore="bus-route-cut",
)

art(
    L,
    "rowing-club-boathouse",
    "2026-11-06 12:15",
    "Rowing club raises £90,000 to replace storm-damaged boathouse",
    "Members of Wrenmere Rowing Club hit their target in five months after a falling oak crushed the roof of the 1930s boathouse.",
    "Sport",
    ["Rowing", "Fundraising", "Community", "Storm Damage"],
    ["Hannah Lowe", "Callum Reid"],
    """
Wrenmere Rowing Club has raised £90,000 to rebuild its lakeside boathouse, five months after a
storm brought down an oak tree that crushed the roof and destroyed eleven boats. The club hit
its fundraising target on Thursday, thanks to a final donation from a former member who now
lives in Canada.

The boathouse, a timber building dating from 1934, had been home to the club's fleet of
racing shells and training boats. Members arrived the morning after the storm in June to find
the roof split in two and boats snapped beneath it.

Club captain Elena Voss said the response had been overwhelming. Members organised a sponsored
row of the full length of the lake, a quiz night and a cake stall at the Saturday market, while
a crowdfunding page drew donations from more than six hundred people.

"We were a club without a home and with half our boats gone," Voss said. "I honestly thought it
would take us years. People have been incredibly generous."

Insurance covered part of the cost of the lost boats but not the full rebuild, because the
policy had not been updated since the building was last valued. The club has since taken out
new cover.

The new boathouse will be built in timber to a similar design, but with a steel frame, better
storage racks and an accessible changing room. Planning permission was granted last month, and
work is expected to begin in January.

In the meantime, the club has been storing its remaining boats at the sailing club on the other
side of the bay. Junior training sessions have continued every Saturday morning throughout the
autumn.
""",
    [
        (
            "Group of rowers in front of a damaged wooden building",
            "Members of Wrenmere Rowing Club in front of the damaged boathouse.",
            "Picture: Peter Quayle/Lakeside Ledger",
            0,
        ),
        (
            "Rowing crew on a misty lake",
            "A junior crew trains on Lake Corran in October.",
            "© Lakeside Ledger / Nadia Frost",
            3,
        ),
    ],
    readmore="cup-third-round",
    upd=40,
)

art(
    L,
    "freight-costs-keep-falling",
    "2026-11-09 14:05",
    "Freight costs keep falling as ocean carriers struggle to fill new vessels",
    "Shipping lines are cutting prices and cancelling sailings as a glut of new container ships meets weak demand.",
    "Business",
    ["Shipping", "Economy", "Trade", "Imports"],
    ["Tomas Reyes"],
    wire_body(
        "The cost of moving a shipping container on the major ocean trade routes has "
        "dropped again, marking three months of decline as new vessels flood a market "
        "that has too little cargo to fill them.",
        CPA1_FIRST_TAIL,
        CPA1_SHARED,
        cut=True,
    ),
    [
        (
            "Container ship leaving port",
            "A container ship leaves port loaded well below capacity in late October.",
            "© Continental Press Agency / Dana Whitfield",
            0,
        )
    ],
    readmore="bakery-jobs",
    agency=AGENCY,
    group="cpa-1",
)

art(
    L,
    "minor-injuries-unit-nights",
    "2026-11-10 11:30",
    "Health trust confirms overnight closure of Wrenmere minor injuries unit",
    "From January the unit will close between 10pm and 8am, with patients directed to Kelbridge General Hospital 24 miles away.",
    "Health",
    ["Health", "Hospitals", "Wrenmere", "Minor Injuries Unit"],
    ["Amira Shah"],
    """
The minor injuries unit at Wrenmere Community Hospital will close overnight from January, the
Corran Valley Health Trust has confirmed. From the new year the unit will open from 8am to 10pm
only, with patients who need treatment outside those hours directed to the emergency
department at Kelbridge General Hospital, 24 miles away.

The trust said the change was needed because it could no longer find enough nurses to staff
night shifts safely. Figures published alongside the decision show the unit treated 4,100
patients between 10pm and 8am last year, an average of about eleven a night.

Chief operating officer Graham Whitlock said the night service had relied on agency staff for
more than a year, at a cost the trust could not sustain. "This is not a decision we have taken
lightly," he said. "We would rather run a reliable service for fourteen hours a day than an
unreliable one for twenty-four."

Campaigners who have fought to keep the unit open say the longer journey will put lives at
risk, particularly in winter when the road over Harrow Pass is often closed by snow. The Save
Wrenmere Hospital group has collected more than eight thousand signatures on a petition.

Group organiser Janet Morley, a retired midwife, said: "People here already travel a long way
for almost everything. Telling a family with a child who has cut their head at midnight to
drive to Kelbridge is simply not good enough."

The trust said it would extend the hours of its telephone advice line and would fund a new
overnight ambulance base in Wrenmere, staffed by paramedics who can treat some minor injuries
at home.

The decision will be reviewed after twelve months. Local MP Sarah Fenwick said she had asked to
meet the trust's chief executive to discuss alternatives.
""",
    [
        (
            "Hospital entrance with a blue sign",
            "The entrance to the minor injuries unit at Wrenmere Community Hospital.",
            "Picture: Tom Ashby/Lakeside Ledger",
            0,
        )
    ],
    readmore="bus-route-cut",
    upd=95,
    edition2=dict(
        modified="2026-11-29 09:00",
        body="""
The minor injuries unit at Wrenmere Community Hospital will close overnight from January, the
Corran Valley Health Trust has confirmed. From the new year the unit will open from 8am to 10pm
only, with patients who need treatment outside those hours directed to the emergency
department at Kelbridge General Hospital, 24 miles away.

The trust said the change was needed because it could no longer find enough nurses to staff
night shifts safely. Figures published alongside the decision show the unit treated 1,400
patients between 10pm and 8am last year, an average of about four a night.

Chief operating officer Graham Whitlock said the night service had relied on agency staff for
more than a year, at a cost the trust could not sustain. "This is not a decision we have taken
lightly," he said. "We would rather run a reliable service for fourteen hours a day than an
unreliable one for twenty-four."

Campaigners who have fought to keep the unit open say the longer journey will put lives at
risk, particularly in winter when the road over Harrow Pass is often closed by snow. The Save
Wrenmere Hospital group has collected more than eight thousand signatures on a petition.

Group organiser Janet Morley, a retired midwife, said: "People here already travel a long way
for almost everything. Telling a family with a child who has cut their head at midnight to
drive to Kelbridge is simply not good enough."

The trust said it would extend the hours of its telephone advice line and would fund a new
overnight ambulance base in Wrenmere, staffed by paramedics who can treat some minor injuries
at home.

The decision will be reviewed after twelve months. Local MP Sarah Fenwick said she had asked to
meet the trust's chief executive to discuss alternatives.

Correction: An earlier version of this article said the unit treated 4,100 patients overnight
last year and gave an average of about eleven a night. The correct figure, published by the
trust, is 1,400 patients, or about four a night.
""",
    ),
)

art(
    L,
    "film-festival-record",
    "2026-11-12 09:45",
    "Wrenmere film festival draws record audiences in tenth year",
    "More than 14,000 tickets were sold for the ten-day festival, which screened 86 films in church halls, a barn and a restored cinema.",
    "Arts",
    ["Film", "Festivals", "Arts", "Tourism"],
    ["Rhys Davenport"],
    """
The Lake Corran Film Festival sold more than 14,000 tickets this year, a record for the event
as it marked its tenth anniversary. Organisers said audiences grew by almost a fifth compared
with last year, with several screenings selling out within hours of going on sale.

Over ten days the festival showed 86 films, from documentaries about hill farming to a restored
silent comedy accompanied by a live pianist. Screenings took place in venues across the
valley, including the Regent cinema in Wrenmere, two church halls and a converted hay barn
above the village of Fellside Bridge.

Festival director Isobel Marr, who founded the event with a borrowed projector and a single
screen in 2017, said she had never expected it to grow so large. "The first year we were
delighted if forty people came," she said. "This year we had people queueing in the rain for a
Finnish documentary about reindeer."

The audience award went to The Quiet Shore, a drama about a lighthouse keeper's daughter filmed
largely on the western shore of the lake. Its director, Wrenmere-born Daniel Hallam, said
making the film at home had been a way of repaying the community that had encouraged him as a
teenager.

Local businesses reported a boost during the festival. The owner of a café near the Regent said
takings were up by around a third, and several guest houses were fully booked for both
weekends.

The festival relies on around 150 volunteers and on funding from the district council and a
national arts body. Marr said the next challenge was to secure longer-term funding so that the
festival could plan beyond one year at a time.

Dates for next year's festival will be announced in the spring.
""",
    [
        (
            "People queueing outside an old cinema at night",
            "Audiences queue outside the Regent cinema in Wrenmere during the festival.",
            "Picture: Peter Quayle/Lakeside Ledger",
            0,
        ),
        (
            "Audience watching a film inside a wooden barn",
            "A screening in the converted hay barn above Fellside Bridge.",
            "© Lakeside Ledger / Nadia Frost",
            4,
        ),
    ],
    readmore="rowing-club-boathouse",
)

art(
    L,
    "outdoor-classroom",
    "2026-11-14 10:00",
    "Primary school moves lessons to the lake shore in outdoor classroom trial",
    "Pupils at St Bride's spend one day a week learning by the water, and teachers say behaviour and attendance are improving.",
    "Education",
    ["Education", "Schools", "Outdoor Learning"],
    ["Hannah Lowe"],
    """
Pupils at St Bride's Primary School in Wrenmere are spending every Friday outdoors this term,
as part of a trial that moves maths, science and writing lessons to a patch of woodland on the
lake shore. The school is one of six in the county taking part in the year-long project, which
is being studied by researchers from the University of Kelbridge.

The outdoor classroom is simple: a circle of log seats, a tarpaulin shelter, a fire pit and a
storage box full of measuring tapes, magnifying glasses and waterproof notebooks. Children walk
there from the school in waterproof suits, whatever the weather.

Head teacher Paul Okonjo said the idea was not to abandon the curriculum but to teach it
differently. Year five pupils have been measuring the height of trees using the length of their
shadows, and the younger children count and sort leaves, stones and shells collected from the
beach.

"We have children who struggle to sit still at a desk for an hour who are completely absorbed
out here," Okonjo said. "Attendance on Fridays is the best of the week."

Early findings from the researchers suggest that pupils in the trial schools are more willing
to attempt difficult problems and to work together in groups, although it is too soon to say
whether test results will change.

Some parents were initially sceptical, particularly about spending whole days outside in
winter. Parent governor Claire Dunmore said her concerns had eased after joining a session in
heavy rain. "The children were having a better time than I was," she said.

The trial will run until July, when the university will publish a full report. If the results
are positive, the county council has said it will fund outdoor learning areas at more schools.
""",
    [
        (
            "Children measuring a tree trunk in woodland",
            "Year five pupils measure a tree during an outdoor lesson on the shore of Lake Corran.",
            "Picture: Nadia Frost/Lakeside Ledger",
            0,
        )
    ],
    readmore="lake-water-quality",
    upd=15,
)

art(
    L,
    "bakery-jobs",
    "2026-11-17 07:30",
    "Bakery chain to open production site in Wrenmere creating 60 jobs",
    "Hollins Bakery will convert an empty warehouse on the Lakeview business park to supply its 40 shops across the region.",
    "Business",
    ["Business", "Jobs", "Food", "Investment"],
    ["Owen Pritchard"],
    """
Hollins Bakery, the family-owned chain with forty shops across the north of the region, is to
open a new production site in Wrenmere, creating around sixty jobs. The company has bought a
vacant warehouse on the Lakeview business park and plans to begin baking there next autumn.

Managing director Simon Hollins said the firm's existing bakery in Kelbridge was running at
full capacity and could not be expanded because it is surrounded by housing. The new site will
produce bread, pastries and the company's well-known lemon slices, which are sold in
supermarkets as well as in its own shops.

Most of the new jobs will be on production lines and in distribution, with some roles in
engineering and quality control. The company said it would work with Kelbridge College to
offer apprenticeships for bakers and maintenance technicians.

"Wrenmere has a good road connection and people who want to work," Hollins said. "We looked at
sites closer to the motorway, but this one had room to grow."

The warehouse has been empty since a furniture distributor moved out four years ago. Its owner
had applied for permission to convert it into self-storage units before Hollins made an offer.

The district council's economic development lead, Fatima Rahman, said the investment was a vote
of confidence in the town. Wrenmere lost several hundred jobs when the dairy and a printing
works closed in the years before the pandemic, and unemployment remains above the regional
average.

Hollins said it expected to start recruiting in the spring. The company will hold an open day
at the site for people interested in working there.
""",
    [
        (
            "Loaves of bread cooling on metal racks",
            "Fresh loaves on a cooling rack at Hollins Bakery's existing site in Kelbridge.",
            "Picture: Tom Ashby/Lakeside Ledger",
            0,
        )
    ],
    readmore="dairy-site-homes",
    paywalled=True,
)

art(
    L,
    "cold-snap-power-grids",
    "2026-11-18 16:45",
    "Cold snap could push power grids to the limit, operators warn",
    "An industry assessment says a long freeze could stretch electricity supplies further than ever before.",
    "News",
    ["Energy", "Electricity", "Power Grid", "Winter"],
    ["Priya Natarajan", "Lukas Werner"],
    wire_body(
        "A severe cold spell this winter could stretch power supplies further than ever "
        "before and raise the risk of rolling blackouts in some regions, grid operators "
        "have warned.",
        CPA2_FIRST_TAIL,
        CPA2_SHARED,
        extra="In Wrenmere, Corran Valley Power said the town's network had spare capacity "
        "on most winter days but that the substation serving the lakeside estates was "
        "due for an upgrade next year. The company urged elderly and vulnerable "
        "residents to register for its priority services list.",
    ),
    [
        (
            "Transmission lines crossing farmland",
            "High-voltage transmission lines run across farmland near a gas-fired power station.",
            "© Continental Press Agency / Jonah Mireault",
            0,
        )
    ],
    readmore="minor-injuries-unit-nights",
    agency=AGENCY,
    group="cpa-2",
    upd=20,
)

art(
    L,
    "cup-third-round",
    "2026-11-21 18:10",
    "Late winner sends Wrenmere Town into cup third round",
    "Substitute Joe Barraclough struck in the 89th minute to beat Skelton Rovers 2-1 in front of a bumper crowd at Lakeside Park.",
    "Sport",
    ["Football", "Wrenmere Town", "County Challenge Cup"],
    ["Callum Reid"],
    """
Wrenmere Town are into the third round of the County Challenge Cup for the first time in over a
decade after substitute Joe Barraclough scored in the 89th minute to beat Skelton Rovers 2-1 at
Lakeside Park on Saturday.

A crowd of 1,140, the biggest at the ground for years, saw the home side fall behind midway
through the first half when Skelton striker Dean Fairhurst met a cross from the right and
headed in off the post.

Town responded well after the break. Captain Liam O'Rourke equalised on 57 minutes, driving a
low shot through a crowd of players after a corner was only half cleared, and Wrenmere pressed
for a winner as the visitors tired.

Manager Steve Kettering brought on Barraclough, an 18-year-old who only made his first-team
debut last month, with fifteen minutes left. With the game heading for penalties, the teenager
collected a long ball from goalkeeper Ryan Parr, turned his marker and fired into the top
corner.

"I just hit it and hoped," Barraclough said afterwards. "When I saw it go in I did not know what
to do with myself. My whole family was in the stand."

Kettering praised his side's spirit. "We were second best for half an hour, but the lads never
stopped running," he said. "This club has not had a day like this for a long time, and the
supporters deserved it."

The draw for the third round will be made on Monday evening. Wrenmere could face one of two
sides from the league above, which would bring a bumper gate and a welcome boost to club
finances.
""",
    [
        (
            "Footballer sliding on his knees in celebration",
            "Joe Barraclough celebrates his late winner against Skelton Rovers.",
            "Picture: Peter Quayle/Lakeside Ledger",
            0,
        )
    ],
    readmore="rowing-club-boathouse",
    upd=50,
)

art(
    L,
    "tree-planting",
    "2026-11-24 13:00",
    "Volunteers plant 5,000 trees along the Corran valley path",
    "Oak, rowan and hazel saplings will create a new strip of woodland linking two ancient woods above the lake.",
    "Environment",
    ["Environment", "Trees", "Volunteers", "Corran Valley"],
    ["Fiona McAllister"],
    """
More than two hundred volunteers spent the weekend planting 5,000 native trees along the Corran
valley path, in the first stage of a project to link two ancient woodlands on the hills above
the lake. Oak, rowan, birch, hazel and hawthorn saplings were planted in a strip almost two
miles long on land owned by three neighbouring farms.

The project is led by the Corran Catchment Trust and funded by a water company, which hopes the
new woodland will slow the run-off of rainwater from the hills and reduce flooding in Wrenmere.
Tree roots help water soak into the ground rather than rushing into streams after heavy rain.

Farmer Gareth Lyle, who has given up a narrow strip along the edge of two of his fields, said he
had been persuaded after seeing the damage done by floods in the town three winters ago. "It is
a small bit of land for me, and if it keeps water out of people's houses it is worth it," he
said.

The volunteers ranged from primary school children to members of a walking club whose oldest
member is 87. Each sapling was planted with a biodegradable guard to protect it from deer and
rabbits.

Trust project officer Megan Doyle said the strip would eventually provide a corridor for
wildlife, allowing red squirrels, dormice and birds to move between the two woods. "Fragmented
woodland is one of the biggest problems for these species," she said. "Joining them up gives
them room to breed and spread."

A further 7,000 trees will be planted next winter to complete the link. The trust is also asking
landowners elsewhere in the valley to come forward if they have land that could be planted.
""",
    [
        (
            "Volunteers with spades on a hillside",
            "Volunteers plant saplings on a hillside above Lake Corran on Saturday.",
            "Picture: Nadia Frost/Lakeside Ledger",
            0,
        )
    ],
    readmore="lake-water-quality",
)

art(
    L,
    "bus-route-cut",
    "2026-11-27 17:00",
    "Villages left without evening buses as route 47 is cut back",
    "The operator says falling passenger numbers made late services unviable, leaving shift workers in three villages without a way home.",
    "News",
    ["Transport", "Buses", "Rural Communities"],
    ["Amira Shah", "Owen Pritchard"],
    """
Three villages on the western side of Lake Corran will lose their evening bus service from
January after the operator of route 47 confirmed that its last departure from Wrenmere will be
moved from 10.40pm to 6.15pm. Valley Coaches said falling passenger numbers and rising costs had
made the late journeys impossible to run without support.

The route links Wrenmere with the villages of Fellside Bridge, Hartsop Green and Oxley, and is
the only public transport serving the western shore. Evening buses have been used mainly by
shift workers, students at Kelbridge College and people returning from hospital appointments.

Care worker Donna Pike, who lives in Hartsop Green and finishes work at the community hospital
at 8pm, said she had no idea how she would get home. "I do not drive, and a taxi would cost me
nearly half of what I earn that day," she said.

Valley Coaches managing director Ian Forsyth said the evening journeys carried an average of six
passengers and had been losing money for several years. A council subsidy that supported them
ended in April.

The county council said it had been forced to prioritise school transport and daytime services
after its transport budget was cut. A spokesperson said the council was looking at whether a
demand-responsive minibus, which passengers book in advance, could cover the evening gap.

Parish councillors from the three villages plan to present a petition to the county council
next month. Oxley parish council chair Roger Tate said losing the service would make it harder
for young people to stay in the area. "If you cannot get home from work or college, you leave,"
he said.

Valley Coaches said the daytime timetable on route 47 would not change.
""",
    [
        (
            "Single-decker bus at a rural bus stop",
            "A route 47 bus waits at the stop in Hartsop Green.",
            "Picture: Tom Ashby/Lakeside Ledger",
            0,
        )
    ],
    readmore="minor-injuries-unit-nights",
    upd=35,
)


# ---------------------------------------------------------------------------
# Nordpost (Nordhafen) -- RSS 1.0 / RDF, +01:00, German
# ---------------------------------------------------------------------------
N = "nordpost"

art(
    N,
    "radwegenetz-innenstadt",
    "2026-11-02 22:30",
    "Stadtrat beschließt neues Radwegenetz für die Innenstadt",
    "Bis 2030 sollen 14 Kilometer geschützte Radwege entstehen, dafür fallen rund 300 Parkplätze weg.",
    "Lokales",
    ["Nordhafen", "Stadtrat", "Radverkehr", "Verkehr"],
    ["Lena Brandt"],
    """
Der Stadtrat von Nordhafen hat am Montagabend ein neues Radwegenetz für die Innenstadt
beschlossen. Bis 2030 sollen rund 14 Kilometer baulich getrennte Radwege entstehen, die den
Bahnhof, den Hafen und die Universität miteinander verbinden.

Für das Vorhaben fallen nach Angaben der Verwaltung etwa 300 Parkplätze am Straßenrand weg, vor
allem in der Holstenstraße und am Kaiserdamm. Als Ausgleich soll das Parkhaus am Fischmarkt um
ein weiteres Stockwerk erweitert werden.

Die Kosten schätzt die Stadt auf 21 Millionen Euro, von denen das Land voraussichtlich gut die
Hälfte übernimmt. Baubeginn für den ersten Abschnitt zwischen Bahnhof und Rathausplatz ist im
Sommer kommenden Jahres.

Bereits im Frühjahr hatte eine Befragung im Auftrag der Stadt gezeigt, dass sich eine knappe
Mehrheit der Nordhafenerinnen und Nordhafener mehr Platz für den Radverkehr wünscht. Zugleich
gaben viele Geschäftsleute an, dass ein großer Teil ihrer Kundschaft mit dem Auto in die Stadt
kommt.

Verkehrsdezernentin Birte Claußen sprach von einem „wichtigen Schritt für eine lebenswerte
Innenstadt“. Die Zahl der Radfahrerinnen und Radfahrer in Nordhafen habe sich in den
vergangenen zehn Jahren fast verdoppelt, während die vorhandenen Radwege vielerorts zu schmal
und in schlechtem Zustand seien.

Kritik kam vom Einzelhandelsverband. Dessen Vorsitzender Hauke Martensen befürchtet, dass
Kundinnen und Kunden aus dem Umland künftig lieber in die Einkaufszentren am Stadtrand fahren.
„Wer mit dem Auto kommt, muss auch parken können“, sagte er.

Der Beschluss fiel mit 31 zu 18 Stimmen. Mehrere Ratsmitglieder kündigten an, die Umsetzung
kritisch zu begleiten und bei Problemen nachzusteuern.

Die Stadt will die Anwohnerinnen und Anwohner der betroffenen Straßen im Frühjahr bei mehreren
Informationsabenden über die genauen Pläne unterrichten.
""",
    [
        (
            "Radfahrer auf einer Innenstadtstraße",
            "Radfahrer auf der Holstenstraße: Hier soll einer der ersten geschützten Radwege entstehen.",
            "Foto: Jens Koch/Nordpost",
            0,
        )
    ],
    readmore="weihnachtsmarkt",
    upd=40,
)

art(
    N,
    "werft-forschungsschiffe",
    "2026-11-04 10:30",
    "Werft in Nordhafen baut zwei Forschungsschiffe",
    "Der Auftrag über rund 180 Millionen Euro sichert die Arbeitsplätze bei der Förde-Werft bis mindestens 2029.",
    "Wirtschaft",
    ["Werft", "Schiffbau", "Arbeitsplätze", "Nordhafen"],
    ["Malte Jessen"],
    """
Die Förde-Werft in Nordhafen hat den Zuschlag für den Bau von zwei Forschungsschiffen erhalten.
Der Auftrag hat nach Angaben des Unternehmens ein Volumen von rund 180 Millionen Euro und
sichert die Beschäftigung der knapp 900 Mitarbeiterinnen und Mitarbeiter bis mindestens 2029.

Auftraggeber ist ein Verbund mehrerer norddeutscher Forschungsinstitute, der die Schiffe für
Messfahrten in Nord- und Ostsee einsetzen will. Die beiden Neubauten sollen jeweils 72 Meter
lang werden und Platz für bis zu 24 Wissenschaftlerinnen und Wissenschaftler bieten.

Besonders stolz ist man auf der Werft auf den Antrieb: Die Schiffe werden mit Methanol
betrieben, das aus erneuerbarem Strom hergestellt wird, und können im Hafen vollständig
elektrisch fahren. „Das ist technisch anspruchsvoll, aber genau darin liegt unsere Stärke“,
sagte Geschäftsführerin Anke Thomsen.

Für die Werft kommt der Auftrag zur rechten Zeit. Im vergangenen Jahr hatte das Unternehmen
Kurzarbeit anmelden müssen, nachdem ein Kunde aus Skandinavien die Bestellung zweier Fähren
storniert hatte.

Die Ausschreibung war europaweit erfolgt, insgesamt hatten sich fünf Werften beworben. Den Ausschlag gaben nach Angaben der Auftraggeber vor allem das Konzept für den klimafreundlichen Antrieb und die Erfahrung der Förde-Werft mit Spezialschiffen. Zuletzt hatte das Unternehmen zwei Vermessungsschiffe für die Küstenwache gebaut.

Der Betriebsratsvorsitzende Sönke Hinrichsen sprach von einer „großen Erleichterung“ für die
Belegschaft. Viele Kolleginnen und Kollegen hätten in den vergangenen Monaten um ihre
Arbeitsplätze gebangt. Nun gehe es darum, auch junge Fachkräfte für den Schiffbau zu gewinnen.

Der Bau des ersten Schiffes soll im Herbst kommenden Jahres beginnen, die Ablieferung ist für
2029 geplant. Das zweite Schiff folgt etwa ein Jahr später.

Auch Zulieferbetriebe in der Region dürften profitieren. Nach Schätzung der Industrie- und
Handelskammer hängen an jedem Arbeitsplatz auf der Werft zwei weitere Stellen bei Zulieferern
und Dienstleistern.
""",
    [
        (
            "Trockendock einer Werft mit Kränen",
            "Blick auf das Trockendock der Förde-Werft, in dem die beiden Forschungsschiffe gebaut werden sollen.",
            "Foto: Ole Hansen/Nordpost",
            0,
        ),
        (
            "Frau mit Schutzhelm vor einem Schiffsmodell",
            "Geschäftsführerin Anke Thomsen bei der Vorstellung der Pläne.",
            "© Nordbild / Frauke Lorenzen",
            3,
        ),
    ],
    readmore="heringsquoten",
    upd=75,
)

art(
    N,
    "warme-wasserschicht",
    "2026-11-05 14:00",
    "Forscher entdecken ungewöhnlich warme Wasserschicht in der Förde",
    "In zwanzig Metern Tiefe ist das Wasser derzeit fast vier Grad wärmer als im langjährigen Mittel.",
    "Wissenschaft",
    ["Meeresforschung", "Klimawandel", "Förde", "Fischerei"],
    ["Katrin Asmussen"],
    """
Meeresforscherinnen und Meeresforscher des Instituts für Küstenforschung in Nordhafen haben in
der Förde eine ungewöhnlich warme Wasserschicht entdeckt. In rund zwanzig Metern Tiefe lag die
Temperatur bei Messfahrten im Oktober fast vier Grad über dem langjährigen Mittel für diese
Jahreszeit.

Normalerweise kühlt sich das Wasser im Herbst von oben nach unten ab, weil Stürme die Schichten
durchmischen. In diesem Jahr sei das warme Sommerwasser jedoch unter einer Schicht aus
kühlerem, salzärmerem Wasser gleichsam eingeschlossen worden, erklärte Projektleiterin Imke
Feddersen.

Die Ursache sehen die Forschenden in einer Kombination aus dem sehr warmen Spätsommer und den
ungewöhnlich schwachen Winden im September. „Ohne kräftigen Wind fehlt die Energie, um die
Wassersäule umzuwälzen“, sagte Feddersen.

Für die Tierwelt am Meeresboden kann das Folgen haben. Warmes Wasser enthält weniger
Sauerstoff, und in der Tiefe wird dieser ohnehin knapp. Taucher des Instituts haben an mehreren
Stellen bereits abgestorbene Muscheln gefunden.

Auch an der Oberfläche war der Herbst bislang ungewöhnlich mild. Noch Ende Oktober maßen die Forschenden in der inneren Förde Wassertemperaturen von mehr als 13 Grad, etwa zwei Grad mehr als üblich. Badegäste am Strand von Südstrand nutzten das für späte Bäder, während Fachleute die Entwicklung mit wachsender Aufmerksamkeit verfolgten.

Die Fischerei beobachtet die Entwicklung mit Sorge. Dorsche und Plattfische meiden
sauerstoffarme Bereiche und ziehen in flachere Zonen, wo sie leichter zur Beute anderer Tiere
werden.

Die Forschenden wollen die Wasserschicht in den kommenden Wochen mit einer Messboje
beobachten, die alle zehn Minuten Temperatur, Salzgehalt und Sauerstoff aufzeichnet. Mit den
ersten Winterstürmen, so die Erwartung, dürfte sich die Schichtung auflösen.

Ob solche Ereignisse künftig häufiger auftreten, lässt sich nach Angaben des Instituts noch
nicht sagen. Dafür seien längere Messreihen nötig, die das Institut in den kommenden Jahren
aufbauen will.
""",
    [
        (
            "Forscherin an Deck eines Schiffes mit Messgerät",
            "Eine Forscherin lässt vom Deck des Institutsschiffs eine Messsonde in die Förde hinab.",
            "Foto: Frauke Lorenzen/Nordpost",
            0,
        )
    ],
    readmore="heringsquoten",
)

art(
    N,
    "theater-premiere",
    "2026-11-09 08:15",
    "Stadttheater feiert Premiere mit selten gespielter Oper",
    "Mit einer fast vergessenen Barockoper über einen Lotsen eröffnet das Haus seine Spielzeit, und das Publikum jubelt.",
    "Kultur",
    ["Theater", "Oper", "Premiere", "Kultur"],
    ["Svenja Holm", "Dirk Carstensen"],
    """
Mit stehenden Ovationen hat das Publikum im Stadttheater Nordhafen am Sonntagabend die Premiere
der Oper „Der Lotse“ gefeiert. Das Werk des Hamburger Komponisten Johann Christoph Hasselmann
war seit seiner Uraufführung im Jahr 1741 nur eine Handvoll Mal auf einer Bühne zu sehen.

Die Geschichte handelt von einem Lotsen, der ein Schiff in einer Sturmnacht durch die
Sandbänke einer Flussmündung führen soll und dabei zwischen Pflicht und Liebe hin- und
hergerissen ist. Regisseurin Marit Nielsen verlegt die Handlung in die Gegenwart auf eine
Bohrinsel, ohne die Musik anzutasten.

Das Ergebnis überzeugt. Das Bühnenbild, ein rostiges Stahlgerüst, das sich während der
Sturmszene langsam zur Seite neigt, sorgte immer wieder für Raunen im Saal. Der junge Bariton
Mikkel Sørensen sang die Titelpartie mit großer Wärme und erstaunlicher Beweglichkeit in den
schnellen Arien.

Generalmusikdirektorin Ulrike Wendt hatte die Partitur in einer Bibliothek in Kopenhagen
aufgespürt und gemeinsam mit einer Musikwissenschaftlerin spielbar gemacht. Das Orchester
spielt auf modernen Instrumenten, orientiert sich aber an der historischen Aufführungspraxis.

„Es ist ein Rätsel, warum dieses Stück so lange vergessen war“, sagte Wendt nach der
Vorstellung. „Die Musik ist voller Einfälle, und das Thema passt zu einer Hafenstadt wie
unserer.“

Für das Stadttheater ist die Produktion ein Wagnis. Selten gespielte Werke verkaufen sich in der Regel schlechter als bekannte Klassiker, und die Rekonstruktion der Partitur hat das Haus zusätzliche Mittel gekostet. Intendant Gerrit Mommsen hofft dennoch auf überregionale Aufmerksamkeit, zur Premiere waren Kritikerinnen und Kritiker aus mehreren Städten angereist.

Nicht alles gelingt. Im zweiten Akt zieht sich die Inszenierung, und die Übertitel waren von
den Seitenplätzen aus kaum zu lesen. Der Begeisterung am Ende tat das jedoch keinen Abbruch.

Weitere Vorstellungen sind bis Ende Januar geplant. Für die meisten Termine gibt es nach
Angaben des Theaters noch Karten.
""",
    [
        (
            "Sänger auf einer Bühne mit Stahlgerüst",
            "Mikkel Sørensen als Lotse in der Sturmszene der Premiere.",
            "Foto: Ole Hansen/Nordpost",
            0,
        )
    ],
    readmore="bibliothek-sonntags",
    upd=20,
)

art(
    N,
    "handball-tabellenfuehrer",
    "2026-11-11 21:30",
    "Handballer des TSV Nordhafen bleiben Tabellenführer",
    "Mit einem 31:27 gegen den SV Marschhusen baut der TSV seine Serie auf neun Siege in Folge aus.",
    "Sport",
    ["Handball", "TSV Nordhafen", "Oberliga", "Sport"],
    ["Jonas Petersen"],
    """
Die Handballer des TSV Nordhafen haben ihre Tabellenführung in der Oberliga verteidigt. Vor 1.800
Zuschauerinnen und Zuschauern in der Fördehalle setzte sich die Mannschaft am Mittwochabend mit
31:27 gegen den SV Marschhusen durch und feierte damit den neunten Sieg in Folge.

Dabei sah es lange nicht nach einem deutlichen Erfolg aus. Die Gäste führten zur Pause mit 15:14
und stellten die Nordhafener Abwehr mit ihrem schnellen Rückraumspiel immer wieder vor Probleme.
Zweimal mussten die Gastgeber in Unterzahl spielen, weil Kreisläufer Bjarne Ohl zu hart
zugepackt hatte.

Die Wende kam kurz nach dem Seitenwechsel. Torhüter Nils Thordsen parierte innerhalb von fünf
Minuten drei Würfe freistehender Gegenspieler, und der TSV nutzte die Gelegenheit zu einem
5:0-Lauf.

Bester Werfer war einmal mehr Rückraumspieler Finn Lassen mit neun Toren. Der 23-Jährige, der im
Sommer aus der zweiten Mannschaft in den Kader des Oberligateams aufgerückt war, gilt inzwischen
als einer der treffsichersten Spieler der Liga.

Trainer Arne Kühl lobte nach dem Spiel vor allem die Moral seines Teams. „In der ersten Halbzeit
waren wir nicht wach genug“, sagte er. „Aber die Jungs haben nicht den Kopf verloren, und Nils
hat uns im richtigen Moment im Spiel gehalten.“

Mit 18:0 Punkten liegt der TSV nun vier Zähler vor dem ersten Verfolger. Am kommenden Samstag
wartet allerdings eine schwere Aufgabe: Dann muss die Mannschaft beim Tabellendritten in
Brunsholm antreten, der in eigener Halle in dieser Saison noch kein Spiel verloren hat.

Für das nächste Heimspiel Ende des Monats hat der Verein bereits mehr als tausend Karten
verkauft. Die Verantwortlichen hoffen auf die erste ausverkaufte Halle der Saison.
""",
    [
        (
            "Handballspieler beim Wurf über zwei Abwehrspieler",
            "Finn Lassen setzt sich gegen zwei Abwehrspieler des SV Marschhusen durch.",
            "Foto: Jens Koch/Nordpost",
            0,
        ),
        (
            "Torhüter jubelt mit geballten Fäusten",
            "Torhüter Nils Thordsen feiert eine seiner Paraden.",
            "© Nordbild / Ole Hansen",
            4,
        ),
    ],
    readmore="theater-premiere",
    upd=35,
)

art(
    N,
    "heringsquoten",
    "2026-11-13 07:00",
    "Fischer in Nordhafen klagen über sinkende Heringsquoten",
    "Die erlaubte Fangmenge für Hering wird im kommenden Jahr erneut gekürzt, und mehrere Familienbetriebe denken ans Aufhören.",
    "Wirtschaft",
    ["Fischerei", "Hering", "Fangquoten", "Wirtschaft"],
    ["Malte Jessen"],
    """
Die Fischereibetriebe in Nordhafen stehen vor einem weiteren schwierigen Jahr. Die zulässige
Fangmenge für Hering in den Fanggebieten vor der Küste wird im kommenden Jahr erneut gesenkt,
diesmal um 18 Prozent, wie die zuständigen Behörden in der vergangenen Woche bekannt gaben.

Für die zwölf Kutter, die noch im Hafen von Nordhafen beheimatet sind, bedeutet das weitere
Einbußen. Vor zwanzig Jahren waren es noch mehr als vierzig Boote, die regelmäßig zum Heringsfang
ausliefen.

„Mit den Mengen, die wir noch fangen dürfen, können wir die Kosten für Diesel, Versicherung und
Liegegebühren kaum noch decken“, sagte Kapitän Hinrich Bruhn, der den Familienbetrieb in vierter
Generation führt. Sein Sohn habe sich bereits für eine Ausbildung an Land entschieden.

Fischereibiologen halten die Kürzungen dennoch für notwendig. Der Bestand habe sich trotz der
Einschränkungen der vergangenen Jahre nicht erholt, sagte eine Sprecherin des Instituts für
Küstenforschung. Als Gründe gelten unter anderem steigende Wassertemperaturen, die die
Entwicklung der Heringslarven stören.

Die Folgen reichen über die Fischerei hinaus. Die Räucherei am Hafen, die seit Jahrzehnten Bücklinge aus Nordhafener Fängen herstellt, kauft inzwischen einen großen Teil ihres Herings aus Norwegen zu. Auch der Fischmarkt am Sonnabend, früher ein Anziehungspunkt für Touristen, ist deutlich kleiner geworden, weil immer weniger Kutter ihren Fang direkt verkaufen.

Die Landesregierung hat angekündigt, Betriebe zu unterstützen, die ihre Kutter stilllegen oder
auf andere Tätigkeiten umstellen wollen. Einige Fischer bieten bereits Angelfahrten für
Touristen an oder beteiligen sich gegen Bezahlung an Forschungsfahrten.

Die Fischereigenossenschaft fordert dagegen eine langfristige Perspektive. „Wir brauchen keine
Abwrackprämie, sondern eine Zukunft für die Fischerei in dieser Stadt“, sagte ihr Vorsitzender
Klaus Rickmers.

Über mögliche Hilfen wollen Vertreter der Genossenschaft Anfang Dezember mit dem
Landwirtschaftsministerium sprechen.
""",
    [
        (
            "Fischkutter an einer Hafenpier",
            "Fischkutter im Hafen von Nordhafen: Viele Boote bleiben inzwischen wochenlang an der Pier.",
            "Foto: Frauke Lorenzen/Nordpost",
            0,
        )
    ],
    readmore="warme-wasserschicht",
    paywalled=True,
)

art(
    N,
    "faehre-moevholm",
    "2026-11-16 12:30",
    "Neue Fährverbindung zur Insel Mövholm startet im Frühjahr",
    "Ab April soll ein elektrisch betriebenes Schiff viermal täglich zwischen dem Stadthafen und der Insel pendeln.",
    "Lokales",
    ["Fähre", "Mövholm", "Tourismus", "Verkehr"],
    ["Katrin Asmussen"],
    """
Die Insel Mövholm bekommt eine direkte Fährverbindung nach Nordhafen. Ab April soll ein
elektrisch betriebenes Fahrgastschiff viermal täglich zwischen dem Stadthafen und dem
Inselanleger pendeln, wie die Stadtwerke am Montag mitteilten.

Bisher mussten die rund 300 Einwohnerinnen und Einwohner der Insel über den Nachbarort
Südstrand fahren, wo eine ältere Fähre ablegt. Die Fahrt in die Stadt dauerte so mit Bus und
Schiff oft mehr als eine Stunde.

Das neue Schiff bietet Platz für 120 Fahrgäste und 30 Fahrräder, Autos werden nicht befördert.
Die Überfahrt soll 35 Minuten dauern. Geladen werden die Batterien am Stadthafen mit Strom aus
einem nahe gelegenen Windpark.

Inselbürgermeisterin Hella Johannsen zeigte sich erleichtert. „Für unsere Schulkinder und für
alle, die in der Stadt arbeiten, ist das eine enorme Verbesserung“, sagte sie. Auch die
Gastronomie auf der Insel hofft auf mehr Tagesgäste.

Gebaut wird das Schiff auf einer kleinen Werft in Dänemark, die bereits mehrere elektrische Fähren ausgeliefert hat. Die Stadtwerke rechnen damit, dass es im März in Nordhafen eintrifft. Vor dem Start des Linienbetriebs sind mehrere Wochen mit Probefahrten und Schulungen für die Besatzung geplant, damit im April alles reibungslos läuft.

Naturschützer hatten zunächst Bedenken geäußert, weil die Route am Rand eines
Vogelschutzgebiets verläuft. Nach Gesprächen mit den Stadtwerken wurde vereinbart, dass das
Schiff dort langsamer fährt und in der Brutzeit einen größeren Abstand zur Küste hält.

Eine einfache Fahrt soll für Erwachsene 6,50 Euro kosten, für Inselbewohnerinnen und
Inselbewohner gibt es vergünstigte Monatskarten. Der genaue Fahrplan wird im Februar
veröffentlicht.

Die Stadtwerke investieren nach eigenen Angaben rund 4,2 Millionen Euro in Schiff und Anleger.
Die Hälfte davon stammt aus einem Förderprogramm des Landes.
""",
    [
        (
            "Holzanleger an einer flachen Insel",
            "Der Anleger auf Mövholm wird derzeit für die neue Fähre umgebaut.",
            "Foto: Ole Hansen/Nordpost",
            0,
        )
    ],
    readmore="sturmflut-promenade",
    upd=50,
)

art(
    N,
    "berufsschule-standort",
    "2026-11-18 19:00",
    "Kreistag streitet über Standort für neue Berufsschule",
    "Ob das neue Berufsbildungszentrum im Gewerbegebiet Nord oder auf dem alten Kasernengelände entsteht, bleibt nach einer hitzigen Sitzung offen.",
    "Politik",
    ["Kreistag", "Bildung", "Berufsschule", "Politik"],
    ["Lena Brandt", "Jonas Petersen"],
    """
Nach einer mehr als dreistündigen Debatte hat der Kreistag die Entscheidung über den Standort
des neuen Berufsbildungszentrums vertagt. Zur Wahl stehen ein Grundstück im Gewerbegebiet Nord
und das Gelände der ehemaligen Marinekaserne am Ostufer.

Das neue Zentrum soll drei bestehende Berufsschulen zusammenfassen, deren Gebäude teilweise aus
den 1960er-Jahren stammen und dringend saniert werden müssten. Rund 2.400 Schülerinnen und
Schüler sollen dort künftig in Werkstätten, Laboren und Klassenräumen unterrichtet werden.

Die Kreisverwaltung favorisiert das Gewerbegebiet. Dort gehört das Grundstück bereits dem Kreis,
und viele Ausbildungsbetriebe liegen in unmittelbarer Nähe. Die Kosten schätzt die Verwaltung
auf 96 Millionen Euro.

Mehrere Fraktionen sprechen sich dagegen für das Kasernengelände aus. Es sei mit Bus und Bahn
deutlich besser zu erreichen, und eine Schule könne helfen, das seit Jahren brachliegende Areal
zu beleben, argumentierte die Fraktionsvorsitzende Gesa Marquardt.

Die Verwaltung hält dagegen, dass auf dem Kasernengelände zunächst Altlasten beseitigt werden
müssten. Das könne den Bau um mindestens zwei Jahre verzögern und zusätzliche Kosten in
zweistelliger Millionenhöhe verursachen.

Auch die Wirtschaft meldete sich zu Wort. Die Kreishandwerkerschaft erklärte, für ihre Betriebe sei vor allem wichtig, dass der Neubau schnell komme. Viele Auszubildende müssten derzeit für einzelne Fächer zwischen den drei Standorten pendeln, was Zeit koste und den Unterricht erschwere. Eine Präferenz für einen der beiden Standorte äußerte sie nicht.

Schülervertreter, die die Sitzung von der Besuchertribüne aus verfolgten, äußerten sich
enttäuscht über die Vertagung. „Wir sitzen in Räumen, in denen es im Winter durch die Fenster
zieht“, sagte eine Auszubildende. „Jede Verzögerung trifft uns.“

Der Kreistag will nun ein unabhängiges Gutachten zu den Kosten beider Standorte einholen. Eine
Entscheidung soll im März fallen.
""",
    [
        (
            "Verlassene Kasernengebäude hinter einem Zaun",
            "Das Gelände der ehemaligen Marinekaserne am Ostufer liegt seit Jahren brach.",
            "Foto: Jens Koch/Nordpost",
            0,
        )
    ],
    readmore="radwegenetz-innenstadt",
    upd=140,
)

art(
    N,
    "sturmflut-promenade",
    "2026-11-20 13:15",
    "Sturmflut setzt Hafenpromenade unter Wasser",
    "Der Pegel stieg in der Nacht auf 1,60 Meter über dem mittleren Wasserstand, Keller liefen voll, Verletzte gab es nicht.",
    "Lokales",
    ["Sturmflut", "Wetter", "Hafen", "Nordhafen"],
    ["Dirk Carstensen"],
    """
Eine Sturmflut hat in der Nacht zum Freitag weite Teile der Hafenpromenade in Nordhafen
überflutet. Der Wasserstand erreichte nach Angaben des Wasserstraßenamts gegen drei Uhr morgens
einen Höchststand von 1,60 Meter über dem mittleren Wasserstand.

Feuerwehr und Technisches Hilfswerk waren die ganze Nacht im Einsatz. Sie pumpten zahlreiche
Keller leer und sicherten Boote im Museumshafen, die sich in den Böen losgerissen hatten.
Verletzt wurde nach bisherigen Erkenntnissen niemand.

Besonders betroffen waren die Gaststätten und Geschäfte entlang der Promenade. Im Restaurant
„Zum Anker“ stand das Wasser am Morgen knöcheltief im Gastraum. „Wir haben noch am Abend die
Stühle hochgestellt, aber mit so viel Wasser hat niemand gerechnet“, sagte Inhaberin Meike
Wollesen.

Der Wind hatte am Donnerstagabend auf Nordost gedreht und in Böen Orkanstärke erreicht. Die
Wetterdienste hatten bereits am Nachmittag vor einer schweren Sturmflut gewarnt. Die Stadt ließ
daraufhin die Flutschutztore am Fischmarkt schließen.

Im Museumshafen richtete das Hochwasser erhebliche Schäden an. Ein historischer Segelkutter wurde gegen die Kaimauer gedrückt und am Rumpf beschädigt, zwei kleinere Boote liefen voll Wasser. Ehrenamtliche des Fördervereins waren schon am frühen Morgen vor Ort, um die Schiffe zu sichern und erste Schäden zu dokumentieren.

Bürgermeister Jan-Hendrik Voss kündigte an, die Schäden schnell erfassen zu lassen. Betroffene
Gewerbetreibende können sich ab Montag bei der Wirtschaftsförderung der Stadt melden.

Die Diskussion über einen besseren Hochwasserschutz dürfte nach der Nacht neuen Schwung
bekommen. Seit Jahren wird über eine Erhöhung der Kaimauer entlang der Promenade gestritten, die
nach Einschätzung von Fachleuten nicht mehr den aktuellen Anforderungen entspricht.

Am Freitagmittag lief das Wasser allmählich ab. Die Promenade bleibt bis zum Abschluss der
Aufräumarbeiten voraussichtlich bis Sonntag gesperrt.
""",
    [
        (
            "Überflutete Uferpromenade mit Laternen",
            "Überflutete Hafenpromenade am frühen Freitagmorgen.",
            "Foto: Frauke Lorenzen/Nordpost",
            0,
        ),
        (
            "Helfer mit Pumpenschlauch vor einem Hauseingang",
            "Helfer des Technischen Hilfswerks pumpen einen Keller an der Promenade leer.",
            "© Nordbild / Jens Koch",
            3,
        ),
    ],
    readmore="faehre-moevholm",
    upd=65,
)

art(
    N,
    "bibliothek-sonntags",
    "2026-11-24 09:30",
    "Stadtbibliothek öffnet ab Januar auch sonntags",
    "Die Zentralbibliothek am Rathausplatz ist künftig auch am Sonntagnachmittag geöffnet, zunächst für ein Jahr auf Probe.",
    "Kultur",
    ["Bibliothek", "Kultur", "Stadtleben"],
    ["Svenja Holm", "Katrin Asmussen"],
    """
Die Stadtbibliothek Nordhafen öffnet ab Januar auch sonntags. Die Zentralbibliothek am
Rathausplatz wird dann jeweils von 12 bis 17 Uhr zugänglich sein, zunächst für eine Probephase
von einem Jahr.

Möglich wird das durch eine Kombination aus zusätzlichem Personal und Technik. An Sonntagen
sollen zwei Mitarbeiterinnen und Mitarbeiter vor Ort sein, Ausleihe und Rückgabe erfolgen über
Selbstbedienungsautomaten im Erdgeschoss.

Bibliotheksleiterin Renate Ohlsen verspricht sich davon vor allem neue Besuchergruppen. „Viele
Familien und Berufstätige haben unter der Woche schlicht keine Zeit“, sagte sie. „Der Sonntag
ist für sie der Tag, an dem sie in Ruhe stöbern können.“

Neben dem Verleih soll es an Sonntagen ein eigenes Programm geben, darunter Vorlesestunden für
Kinder, Brettspielnachmittage und eine offene Sprechstunde, in der Ehrenamtliche bei Fragen rund
um Smartphone und Computer helfen.

Vorbild sind andere Städte, in denen Bibliotheken schon seit einiger Zeit am Wochenende öffnen. Dort habe sich gezeigt, dass gerade der Sonntag zu den am stärksten besuchten Tagen gehöre, sagte Ohlsen. Viele Menschen nutzten die Räume dann nicht nur zum Ausleihen, sondern auch zum Lesen, Lernen und Spielen.

Der Kulturausschuss hatte dem Vorschlag bereits im Sommer zugestimmt. Die zusätzlichen Kosten
von rund 85.000 Euro im Jahr trägt zum Teil eine örtliche Stiftung, die sich seit Jahren für
die Leseförderung in der Stadt engagiert.

Die Gewerkschaft hatte zunächst Bedenken wegen der Sonntagsarbeit angemeldet. Man habe sich
jedoch auf einen Ausgleich mit zusätzlichen freien Tagen und Zuschlägen geeinigt, teilte die
Stadt mit. Die Sonntagsdienste sollen für die Beschäftigten freiwillig sein.

Nach Ablauf des Probejahres will die Stadt Bilanz ziehen und über eine dauerhafte Einführung
entscheiden.
""",
    [
        (
            "Lesesaal mit hohen Bücherregalen",
            "Lesesaal der Zentralbibliothek am Rathausplatz.",
            "Foto: Ole Hansen/Nordpost",
            0,
        )
    ],
    readmore="theater-premiere",
)

art(
    N,
    "weihnachtsmarkt",
    "2026-11-27 16:00",
    "Weihnachtsmarkt startet mit mehr Ständen und weniger Plastik",
    "Am Montag öffnet der Markt auf dem Rathausplatz, und erstmals gibt es heiße Getränke nur noch im Pfandbecher.",
    "Lokales",
    ["Weihnachtsmarkt", "Nordhafen", "Nachhaltigkeit", "Stadtleben"],
    ["Lena Brandt"],
    """
Der Nordhafener Weihnachtsmarkt öffnet am kommenden Montag mit so vielen Ständen wie nie zuvor.
Auf dem Rathausplatz und entlang der Holstenstraße werden in diesem Jahr 94 Buden aufgebaut,
zwölf mehr als im Vorjahr.

Neu ist vor allem das Mehrwegsystem. Heiße Getränke werden ausschließlich in Pfandbechern
ausgeschenkt, Einwegbesteck und Plastikteller sind verboten. Die Stadt hat dafür eine zentrale
Spülstation am Rand des Marktes eingerichtet.

Marktleiter Thore Brodersen zeigte sich zuversichtlich, dass die Besucherinnen und Besucher das
System annehmen. „In anderen Städten funktioniert das seit Jahren problemlos“, sagte er. Ein
Becher kostet drei Euro Pfand und kann an jedem Stand zurückgegeben werden.

Erstmals gibt es zudem einen eigenen Bereich für Kunsthandwerk aus der Region. In zwölf kleinen
Holzhäusern verkaufen Töpferinnen, Holzschnitzer und Weberinnen aus dem Umland ihre Arbeiten,
die Standmiete ist dort ermäßigt.

Neu ist in diesem Jahr auch die Beleuchtung. Statt der alten Glühlampen hängen über dem Rathausplatz rund 40.000 sparsame LED-Lichter, die nach Angaben der Stadt nur einen Bruchteil des bisherigen Stroms verbrauchen. Das Riesenrad am Hafenende des Marktes wird mit Ökostrom betrieben, den die Stadtwerke bereitstellen.

Die Preise für Glühwein steigen nach Angaben der Schausteller leicht auf durchschnittlich 4,50
Euro. Höhere Kosten für Energie und Personal ließen keine andere Wahl, hieß es.

Für die Sicherheit sorgen wie im Vorjahr Betonsperren an den Zufahrten sowie ein verstärkter
Ordnungsdienst. Die Polizei wird regelmäßig Streife gehen und ist an den Wochenenden mit einer
mobilen Wache auf dem Rathausplatz vertreten.

Der Markt ist bis kurz vor Heiligabend täglich von 11 bis 21 Uhr geöffnet, freitags und
samstags bis 22 Uhr.
""",
    [
        (
            "Holzbuden werden auf einem Platz aufgebaut",
            "Aufbau der Buden auf dem Rathausplatz am Freitag.",
            "Foto: Jens Koch/Nordpost",
            0,
        )
    ],
    readmore="radwegenetz-innenstadt",
    upd=30,
)


# ---------------------------------------------------------------------------
# Helpers: URLs, dates, lookups
# ---------------------------------------------------------------------------

BY_KEY = {(a["pub"], a["slug"]): a for a in ARTICLES}
BY_PUB = {
    p: sorted([a for a in ARTICLES if a["pub"] == p], key=lambda a: a["published"]) for p in PUBS
}

EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
AP_MONTHS = [
    "Jan.",
    "Feb.",
    "March",
    "April",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
]
DE_DAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


def path_of(a):
    return f"/{a['pub']}/{a['published']:%Y/%m}/{a['slug']}.html"


def url_of(a):
    return BASE + path_of(a)


def home_url(pub):
    return f"{BASE}/{pub}/index.html"


def img_file(a, n):
    return f"{a['slug']}-{n}.png"


def img_src(a, n):
    """Each publisher references images differently (absolute, root-relative, relative)."""
    fn = img_file(a, n)
    if a["pub"] == "harbor":
        return f"{BASE}/harbor/media/{fn}"
    if a["pub"] == "ledger":
        return f"/ledger/media/{fn}"
    return f"../../media/{fn}"


def img_abs(a, n):
    return f"{BASE}/{a['pub']}/media/{img_file(a, n)}"


def iso_ld(dt, pub):
    s = dt.isoformat()
    return s.replace("+00:00", "Z") if pub == "ledger" else s


def utc_z(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(dt):
    off = dt.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "-" if mins < 0 else "+"
    mins = abs(mins)
    return (
        f"{EN_DAYS[dt.weekday()][:3]}, {dt.day:02d} {EN_MONTHS[dt.month - 1][:3]} {dt.year} "
        f"{dt:%H:%M:%S} {sign}{mins // 60:02d}{mins % 60:02d}"
    )


def harbor_time(dt, with_date=True):
    h = dt.hour % 12 or 12
    ampm = "a.m." if dt.hour < 12 else "p.m."
    t = f"{h}:{dt.minute:02d} {ampm} EST"
    return f"{AP_MONTHS[dt.month - 1]} {dt.day}, {dt.year}, {t}" if with_date else t


def ledger_time(dt):
    return f"{EN_DAYS[dt.weekday()]} {dt.day} {EN_MONTHS[dt.month - 1]} {dt.year} {dt:%H:%M} GMT"


def nordpost_time(dt):
    return f"{DE_DAYS[dt.weekday()]}, {dt:%d.%m.%Y}, {dt:%H:%M} Uhr"


def byline_names(a, lang):
    names = a["authors"]
    joiner = " und " if lang == "de" else " and "
    s = names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]
    if a["agency"]:
        s += ", " + a["agency"]
    return s


def related_for(a):
    arts = BY_PUB[a["pub"]]
    idx = arts.index(a)
    others = [b for b in arts if b is not a and b["slug"] != a["readmore"]]
    others.sort(key=lambda b: (abs((b["published"] - a["published"]).total_seconds()), b["slug"]))
    return others[: 2 + idx % 3]


def most_read_for(a):
    if a["pub"] not in MOST_READ:
        return []
    return [BY_KEY[(a["pub"], s)] for s in MOST_READ[a["pub"]] if s != a["slug"]][:4]


def readmore_of(a):
    return BY_KEY[(a["pub"], a["readmore"])]


SENT_SPLIT = re.compile(r"(?<=[.!?\u201c\"])\s+(?=[A-ZÄÖÜ\u201e\"])")


def sentences(paragraph):
    return SENT_SPLIT.split(paragraph)


def jsonld(a, modified):
    P = PUBS[a["pub"]]
    url = url_of(a)
    authors = [{"@type": "Person", "name": n} for n in a["authors"]]
    if a["agency"]:
        authors.append({"@type": "Organization", "name": a["agency"]})
    art_obj = {
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "headline": a["title"],
        "description": a["teaser"],
        "image": [img_abs(a, n + 1) for n in range(len(a["images"]))],
        "datePublished": iso_ld(a["published"], a["pub"]),
        "dateModified": iso_ld(modified, a["pub"]),
        "author": authors,
        "keywords": a["tags"] if a["pub"] != "ledger" else ", ".join(a["tags"]),
        "articleSection": a["section"],
        "inLanguage": P["inlang"],
        "isAccessibleForFree": not a["paywalled"],
        "publisher": {
            "@type": "NewsMediaOrganization",
            "name": P["name"],
            "url": home_url(a["pub"]),
            "logo": {"@type": "ImageObject", "url": f"{BASE}/{a['pub']}/media/logo.png"},
        },
    }
    if a["agency"]:
        art_obj["sourceOrganization"] = {"@type": "Organization", "name": a["agency"]}
    if a["pub"] == "nordpost":
        doc = {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "WebSite",
                    "@id": home_url("nordpost") + "#website",
                    "name": P["name"],
                    "url": home_url("nordpost"),
                    "inLanguage": P["inlang"],
                },
                dict(art_obj, isPartOf={"@id": home_url("nordpost") + "#website"}),
            ],
        }
    else:
        doc = dict({"@context": "https://schema.org"}, **art_obj)
    return json.dumps(doc, ensure_ascii=False, indent=2)


def head(a, modified, sep):
    P = PUBS[a["pub"]]
    url = url_of(a)
    L = [
        "<!DOCTYPE html>",
        f'<html lang="{P["lang"]}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(a['title'])}{sep}{esc(P['name'])}</title>",
        f'<meta name="description" content="{attr(a["teaser"])}">',
        f'<meta name="author" content="{attr(", ".join(a["authors"]))}">',
        f'<link rel="canonical" href="{url}">',
        f'<link rel="alternate" type="{P["feed_type"]}" title="{attr(P["name"])}" href="{BASE}/{a["pub"]}/{P["feed"]}">',
        f'<link rel="stylesheet" href="{BASE}/{a["pub"]}/static/site.css">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:site_name" content="{attr(P["name"])}">',
        f'<meta property="og:locale" content="{P["locale"]}">',
        f'<meta property="og:title" content="{attr(a["title"])}">',
        f'<meta property="og:description" content="{attr(a["teaser"])}">',
        f'<meta property="og:url" content="{url}">',
        f'<meta property="og:image" content="{img_abs(a, 1)}">',
        f'<meta property="article:published_time" content="{a["published"].isoformat()}">',
        f'<meta property="article:modified_time" content="{modified.isoformat()}">',
        f'<meta property="article:section" content="{attr(a["section"])}">',
    ]
    L += [f'<meta property="article:tag" content="{attr(t)}">' for t in a["tags"]]
    L += [
        '<meta name="twitter:card" content="summary_large_image">',
        '<script type="application/ld+json">',
        jsonld(a, modified),
        "</script>",
        "<script>window.dataLayer = window.dataLayer || []; "
        f"window.dataLayer.push({{'pageType': 'article', 'section': '{a['section']}'}});</script>",
        "</head>",
    ]
    return L


def insert_plan(a, body):
    """Return dict: paragraph number -> list of (kind, payload) inserted after it."""
    n = len(body)
    plan = {}
    mid_imgs = {img[3] for img in a["images"] if img[3]}
    for i, img in enumerate(a["images"]):
        if img[3]:
            plan.setdefault(img[3], []).append(("img", i))
    rm = (n + 1) // 2
    if rm in mid_imgs:
        rm += 1
    plan.setdefault(2, []).append(("ad", None))
    plan.setdefault(rm, []).append(("readmore", None))
    if a["pub"] == "ledger":
        plan.setdefault(n - 2, []).append(("newsletter", None))
    return plan


def share_urlattrs(a):
    return f'data-url="{url_of(a)}" data-title="{attr(a["title"])}"'


# ---------------------------------------------------------------------------
# The Harbor Courier template: <article>, <figure>, <figcaption>
# ---------------------------------------------------------------------------


def harbor_top(active=None):
    P = PUBS["harbor"]
    Z = NOISE["harbor"]
    L = [
        '<div id="cookie-consent" class="cookie-consent" role="dialog" aria-live="polite">',
        f'  <p class="cookie-consent__text">{esc(Z["cookie"])}</p>',
        '  <button type="button" class="cookie-consent__accept">Accept all</button>',
        '  <button type="button" class="cookie-consent__settings">Manage preferences</button>',
        "</div>",
        '<header class="site-header">',
        '  <div class="masthead">',
        f'    <a class="logo" href="{home_url("harbor")}"><img src="{BASE}/harbor/media/logo.png" alt="The Harbor Courier" width="240" height="48"></a>',
        '    <p class="tagline">Serving Port Carrick since 1887</p>',
        f'    <a class="subscribe-cta" href="{home_url("harbor")}#subscribe">Subscribe</a>',
        "  </div>",
        '  <nav class="primary-nav" aria-label="Sections">',
        "    <ul>",
        f'      <li><a href="{home_url("harbor")}">Home</a></li>',
    ]
    for s in P["sections"]:
        cls = ' class="active"' if s == active else ""
        L.append(f'      <li><a{cls} href="{home_url("harbor")}#section-{s.lower()}">{s}</a></li>')
    L += ["    </ul>", "  </nav>", "</header>"]
    return L


def harbor_newsletter():
    Z = NOISE["harbor"]
    return [
        '<section class="newsletter-signup" id="subscribe">',
        f'  <h2 class="newsletter-signup__title">{esc(Z["newsletter"][0])}</h2>',
        f'  <p class="newsletter-signup__text">{esc(Z["newsletter"][1])}</p>',
        f'  <form action="{BASE}/harbor/newsletter" method="post">',
        '    <input type="email" name="email" placeholder="Your email address" aria-label="Email address">',
        '    <button type="submit">Sign up</button>',
        "  </form>",
        "</section>",
    ]


def harbor_bottom():
    Z = NOISE["harbor"]
    return [
        '<footer class="site-footer">',
        '  <nav class="footer-nav"><ul>',
        '    <li><a href="#">About us</a></li><li><a href="#">Contact the newsroom</a></li>',
        '    <li><a href="#">Privacy policy</a></li><li><a href="#">Terms of use</a></li>',
        '    <li><a href="#">Advertise with us</a></li>',
        "  </ul></nav>",
        f'  <p class="copyright">{esc(Z["footer"])}</p>',
        "</footer>",
    ]


def harbor_share(a, where):
    Z = NOISE["harbor"]
    nets = ["x", "facebook", "email"]
    L = [f'<div class="share-tools share-tools--{where}">']
    for net, label in zip(nets, Z["share"], strict=False):
        L.append(
            f'  <button type="button" class="share-btn share-btn--{net}" {share_urlattrs(a)}>{esc(label)}</button>'
        )
    L.append("</div>")
    return L


def harbor_figure(a, i, lead):
    alt, cap, credit, _ = a["images"][i]
    cls = "lead-art" if lead else "inline-art"
    return [
        f'<figure class="{cls}">',
        f'  <img src="{img_src(a, i + 1)}" alt="{attr(alt)}" width="1200" height="675" loading="lazy">',
        f'  <figcaption><span class="caption">{esc(cap)}</span> <span class="credit">{esc(credit)}</span></figcaption>',
        "</figure>",
    ]


def render_harbor(a, body, modified):
    Z = NOISE["harbor"]
    L = head(a, modified, " | ")
    L += ['<body class="article-page">']
    L += harbor_top(a["section"])
    L += [
        '<main id="main" class="layout">',
        '<article class="story">',
        '<header class="story-header">',
        f'  <p class="kicker"><a href="{home_url("harbor")}#section-{a["section"].lower()}">{esc(a["section"])}</a></p>',
        f'  <h1 class="headline">{esc(a["title"])}</h1>',
        f'  <p class="byline">By <span class="author">{esc(byline_names(a, "en"))}</span></p>',
        '  <p class="dateline">'
        f'<time class="published" datetime="{a["published"].isoformat()}">{harbor_time(a["published"])}</time>',
    ]
    if modified != a["published"]:
        same = modified.date() == a["published"].date()
        L[-1] += (
            f' <span class="updated">| Updated <time datetime="{modified.isoformat()}">'
            f"{harbor_time(modified, not same)}</time></span>"
        )
    L[-1] += "</p>"
    L += ["</header>"]
    L += harbor_share(a, "top")
    L += harbor_figure(a, 0, True)
    L += ['<div class="story-body">']
    plan = insert_plan(a, body)
    for n, p in enumerate(body, 1):
        L.append(f"  <p>{esc(p)}</p>")
        for kind, payload in plan.get(n, []):
            if kind == "img":
                L += ["  " + x for x in harbor_figure(a, payload, False)]
            elif kind == "ad":
                L += [
                    '  <div class="ad-slot ad-slot--inline" data-ad-unit="harbor_article_mid">',
                    f'    <span class="ad-label">{Z["ad"]}</span>',
                    '    <div class="ad-slot__creative" id="ad-mid-1"></div>',
                    "  </div>",
                ]
            elif kind == "readmore":
                rm = readmore_of(a)
                L += [
                    '  <div class="read-more">',
                    f'    <span class="read-more__label">{esc(Z["readmore"])}</span> '
                    f'<a href="{url_of(rm)}">{esc(rm["title"])}</a>',
                    "  </div>",
                ]
    L += ["</div>"]
    L += harbor_share(a, "bottom")
    L += ['<section class="related-stories">', f"  <h2>{esc(Z['related'])}</h2>", "  <ul>"]
    for r in related_for(a):
        L.append(f'    <li><a href="{url_of(r)}">{esc(r["title"])}</a></li>')
    L += ["  </ul>", "</section>", "</article>"]
    L += [
        '<aside class="rail">',
        '  <section class="most-read">',
        f"    <h2>{esc(Z['mostread'])}</h2>",
        "    <ol>",
    ]
    for r in most_read_for(a):
        L.append(f'      <li><a href="{url_of(r)}">{esc(r["title"])}</a></li>')
    L += [
        "    </ol>",
        "  </section>",
        '  <div class="ad-slot ad-slot--rail" data-ad-unit="harbor_rail_top">',
        f'    <span class="ad-label">{Z["ad"]}</span>',
        '    <div class="ad-slot__creative" id="ad-rail-1"></div>',
        "  </div>",
        "</aside>",
    ]
    L += harbor_newsletter()
    L += ["</main>"]
    L += harbor_bottom()
    L += ["</body>", "</html>", ""]
    return "\n".join(L)


def render_harbor_home():
    P = PUBS["harbor"]
    arts = sorted(BY_PUB["harbor"], key=lambda a: a["published"], reverse=True)
    L = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(P['name'])} | Port Carrick news, sports and weather</title>",
        f'<meta name="description" content="{attr(P["description"])}">',
        f'<link rel="canonical" href="{home_url("harbor")}">',
        f'<link rel="alternate" type="{P["feed_type"]}" title="{attr(P["name"])}" href="{BASE}/harbor/{P["feed"]}">',
        f'<link rel="stylesheet" href="{BASE}/harbor/static/site.css">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{attr(P["name"])}">',
        f'<meta property="og:url" content="{home_url("harbor")}">',
        "</head>",
        '<body class="section-front">',
    ]
    L += harbor_top()
    L += ['<main id="main" class="layout">', '<h1 class="visually-hidden">The Harbor Courier</h1>']
    lead = arts[0]
    L += [
        '<section class="top-story">',
        f'  <a href="{url_of(lead)}"><img src="{img_src(lead, 1)}" alt="{attr(lead["images"][0][0])}" width="1200" height="675"></a>',
        f'  <h2 class="headline"><a href="{url_of(lead)}">{esc(lead["title"])}</a></h2>',
        f'  <p class="dek">{esc(lead["teaser"])}</p>',
        f'  <p class="byline">By {esc(byline_names(lead, "en"))}</p>',
        "</section>",
    ]
    for s in P["sections"]:
        items = [a for a in arts if a["section"] == s and a is not lead]
        if not items:
            continue
        L += [
            f'<section class="section-block" id="section-{s.lower()}">',
            f"  <h2>{s}</h2>",
            '  <ul class="teaser-list">',
        ]
        for a in items:
            L += [
                '    <li class="teaser">',
                f'      <h3><a href="{url_of(a)}">{esc(a["title"])}</a></h3>',
                f'      <p class="dek">{esc(a["teaser"])}</p>',
                f'      <time datetime="{a["published"].isoformat()}">{harbor_time(a["published"])}</time>',
                "    </li>",
            ]
        L += ["  </ul>", "</section>"]
    L += [
        '<div class="ad-slot ad-slot--leaderboard">',
        f'  <span class="ad-label">{NOISE["harbor"]["ad"]}</span>',
        "</div>",
    ]
    L += harbor_newsletter()
    L += ["</main>", *harbor_bottom(), "</body>", "</html>", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------
# Lakeside Ledger template: div soup with media-caption / photo-credit / inline-teaser
# ---------------------------------------------------------------------------


def ledger_top(active=None):
    Z = NOISE["ledger"]
    L = [
        '<div class="cookie-bar" id="cookieBar">',
        f'  <span class="cookie-bar__msg">{esc(Z["cookie"])}</span>',
        '  <a class="cookie-bar__more" href="#">Find out more</a>',
        '  <button type="button" class="cookie-bar__ok">OK</button>',
        "</div>",
        '<div class="topbar">',
        f'  <div class="brand"><a href="{home_url("ledger")}"><img src="/ledger/media/logo.png" alt="Lakeside Ledger" width="220" height="44"></a></div>',
        '  <div class="nav">',
        f'    <a class="nav__item" href="{home_url("ledger")}">Home</a>',
    ]
    for s in PUBS["ledger"]["sections"]:
        cls = "nav__item nav__item--active" if s == active else "nav__item"
        L.append(f'    <a class="{cls}" href="{home_url("ledger")}#{s.lower()}">{s}</a>')
    L += ['    <a class="nav__item nav__item--cta" href="#">Subscribe</a>', "  </div>", "</div>"]
    return L


def ledger_newsletter():
    Z = NOISE["ledger"]
    return [
        '<div class="newsletter-inline">',
        f'  <div class="newsletter-inline__title">{esc(Z["newsletter"][0])}</div>',
        f'  <div class="newsletter-inline__text">{esc(Z["newsletter"][1])}</div>',
        '  <div class="newsletter-inline__form"><input type="email" placeholder="Enter your email"> <button type="button">Sign me up</button></div>',
        "</div>",
    ]


def ledger_bottom():
    Z = NOISE["ledger"]
    return [
        '<div class="footer">',
        '  <div class="footer__links"><a href="#">About the Ledger</a> <a href="#">Contact us</a> '
        '<a href="#">Cookie policy</a> <a href="#">Privacy notice</a> <a href="#">Complaints</a></div>',
        f'  <div class="footer__copy">{esc(Z["footer"])}</div>',
        "</div>",
    ]


def ledger_media(a, i, lead):
    alt, cap, credit, _ = a["images"][i]
    cls = "media media--lead" if lead else "media media--inline"
    return [
        f'<div class="{cls}">',
        f'  <div class="media__img"><img src="{img_src(a, i + 1)}" alt="{attr(alt)}" width="960" height="540"></div>',
        f'  <div class="media-caption">{esc(cap)}</div>',
        f'  <div class="photo-credit">{esc(credit)}</div>',
        "</div>",
    ]


def ledger_share(a):
    Z = NOISE["ledger"]
    L = ['<div class="share-bar">']
    for net, label in zip(["x", "facebook", "email"], Z["share"], strict=False):
        L.append(
            f'  <a class="share-bar__link share-bar__link--{net}" href="#" {share_urlattrs(a)}>{esc(label)}</a>'
        )
    L.append("</div>")
    return L


def render_ledger(a, body, modified):
    Z = NOISE["ledger"]
    L = head(a, modified, " - ")
    L += ["<body>"]
    L += ledger_top(a["section"])
    L += [
        '<div class="page">',
        '<div class="col-main">',
        '<div class="post">',
        f'  <div class="post-section"><a href="{home_url("ledger")}#{a["section"].lower()}">{esc(a["section"])}</a></div>',
        f'  <div class="post-title"><h1>{esc(a["title"])}</h1></div>',
        '  <div class="post-meta">',
        f'    <span class="post-author">By <span class="post-author__name">{esc(byline_names(a, "en"))}</span></span>',
        f'    <span class="post-date" data-ts="{iso_ld(a["published"], "ledger")}">{ledger_time(a["published"])}</span>',
    ]
    if modified != a["published"]:
        L.append(f'    <span class="post-updated">Last updated: {ledger_time(modified)}</span>')
    L += ["  </div>"]
    L += ["  " + x for x in ledger_share(a)]
    L += ["  " + x for x in ledger_media(a, 0, True)]
    L += ['  <div class="post-body">']
    plan = insert_plan(a, body)
    for n, p in enumerate(body, 1):
        L.append(f'    <p class="post-body__para">{esc(p)}</p>')
        for kind, payload in plan.get(n, []):
            if kind == "img":
                L += ["    " + x for x in ledger_media(a, payload, False)]
            elif kind == "ad":
                L += [
                    '    <div class="advert advert--inline">',
                    f'      <div class="advert__label">{Z["ad"]}</div>',
                    '      <div class="advert__slot" data-slot="inread"></div>',
                    "    </div>",
                ]
            elif kind == "readmore":
                rm = readmore_of(a)
                L += [
                    '    <div class="inline-teaser">',
                    f'      <span class="inline-teaser__label">{esc(Z["readmore"])}</span>',
                    f'      <a class="inline-teaser__link" href="{url_of(rm)}">{esc(rm["title"])}</a>',
                    "    </div>",
                ]
            elif kind == "newsletter":
                L += ["    " + x for x in ledger_newsletter()]
    L += ["  </div>"]
    L += [
        '  <div class="more-on-topic">',
        f'    <div class="more-on-topic__heading">{esc(Z["related"])}</div>',
        '    <ul class="more-on-topic__list">',
    ]
    for r in related_for(a):
        L.append(f'      <li><a href="{url_of(r)}">{esc(r["title"])}</a></li>')
    L += ["    </ul>", "  </div>"]
    L += ["  " + x for x in ledger_share(a)]
    L += [
        "</div>",
        "</div>",
        '<div class="col-side">',
        '  <div class="advert advert--mpu">',
        f'    <div class="advert__label">{Z["ad"]}</div>',
        '    <div class="advert__slot" data-slot="mpu"></div>',
        "  </div>",
        "</div>",
        "</div>",
    ]
    L += ledger_bottom()
    L += ["</body>", "</html>", ""]
    return "\n".join(L)


def render_ledger_home():
    P = PUBS["ledger"]
    arts = sorted(BY_PUB["ledger"], key=lambda a: a["published"], reverse=True)
    L = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(P['name'])} - Wrenmere and Corran valley news</title>",
        f'<meta name="description" content="{attr(P["description"])}">',
        f'<link rel="canonical" href="{home_url("ledger")}">',
        f'<link rel="alternate" type="{P["feed_type"]}" title="{attr(P["name"])}" href="{BASE}/ledger/{P["feed"]}">',
        f'<link rel="stylesheet" href="{BASE}/ledger/static/site.css">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{attr(P["name"])}">',
        f'<meta property="og:url" content="{home_url("ledger")}">',
        "</head>",
        "<body>",
    ]
    L += ledger_top()
    L += [
        '<div class="page">',
        '<div class="col-main">',
        '<div class="front-heading">Latest news</div>',
    ]
    seen = set()
    for a in arts:
        anchor = a["section"].lower() if a["section"] not in seen else a["slug"]
        seen.add(a["section"])
        L += [
            f'<div class="card" id="{anchor}">',
            f'  <div class="card__thumb"><img src="{img_src(a, 1)}" alt="{attr(a["images"][0][0])}" width="320" height="180"></div>',
            f'  <div class="card__section">{esc(a["section"])}</div>',
            f'  <div class="card__title"><a href="{url_of(a)}">{esc(a["title"])}</a></div>',
            f'  <div class="card__standfirst">{esc(a["teaser"])}</div>',
            f'  <div class="card__date">{ledger_time(a["published"])}</div>',
            "</div>",
        ]
    L += ledger_newsletter()
    L += [
        "</div>",
        '<div class="col-side">',
        '  <div class="advert advert--mpu">',
        f'    <div class="advert__label">{NOISE["ledger"]["ad"]}</div>',
        "  </div>",
        "</div>",
        "</div>",
    ]
    L += [*ledger_bottom(), "</body>", "</html>", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------
# Nordpost template: <aside> boxes, <span class="copyright">
# ---------------------------------------------------------------------------


def nordpost_top(active=None):
    Z = NOISE["nordpost"]
    L = [
        '<div class="consent-layer" id="consent">',
        f'  <p class="consent-layer__text">{esc(Z["cookie"])}</p>',
        '  <button type="button" class="consent-layer__ok">Alle akzeptieren</button>',
        '  <button type="button" class="consent-layer__settings">Einstellungen</button>',
        "</div>",
        '<header class="kopf">',
        f'  <a class="logo" href="{home_url("nordpost")}"><img src="../../media/logo.png" alt="Nordpost" width="200" height="50"></a>',
        '  <nav class="ressorts"><ul>',
        f'    <li><a href="{home_url("nordpost")}">Startseite</a></li>',
    ]
    for s in PUBS["nordpost"]["sections"]:
        cls = ' class="aktiv"' if s == active else ""
        L.append(f'    <li><a{cls} href="{home_url("nordpost")}#{s.lower()}">{s}</a></li>')
    L += [
        '    <li><a class="abo" href="#">Nordpost+ abonnieren</a></li>',
        "  </ul></nav>",
        "</header>",
    ]
    return L


def nordpost_newsletter():
    Z = NOISE["nordpost"]
    return [
        '<section class="newsletter-box">',
        f"  <h2>{esc(Z['newsletter'][0])}</h2>",
        f"  <p>{esc(Z['newsletter'][1])}</p>",
        '  <form><input type="email" placeholder="Ihre E-Mail-Adresse"> <button type="submit">Jetzt anmelden</button></form>',
        "</section>",
    ]


def nordpost_bottom():
    Z = NOISE["nordpost"]
    return [
        '<footer class="fuss">',
        '  <p class="fuss-links"><a href="#">Impressum</a> <a href="#">Datenschutz</a> <a href="#">AGB</a> '
        '<a href="#">Kontakt</a> <a href="#">Mediadaten</a></p>',
        f'  <p><span class="copyright">{esc(Z["footer"])}</span></p>',
        "</footer>",
    ]


def nordpost_bild(a, i, lead):
    alt, cap, credit, _ = a["images"][i]
    cls = "bild bild--aufmacher" if lead else "bild bild--inline"
    return [
        f'<div class="{cls}">',
        f'  <img src="{img_src(a, i + 1)}" alt="{attr(alt)}" width="1024" height="576">',
        f'  <p class="bildunterschrift">{esc(cap)} <span class="copyright">{esc(credit)}</span></p>',
        "</div>",
    ]


def render_nordpost(a, body, modified):
    Z = NOISE["nordpost"]
    L = head(a, modified, " | ")
    L += ["<body>"]
    L += nordpost_top(a["section"])
    L += [
        '<main class="inhalt">',
        '<article class="artikel">',
        '<header class="artikel-kopf">',
        f'  <span class="dachzeile">{esc(a["section"])}</span>',
        f'  <h1 class="titel">{esc(a["title"])}</h1>',
        '  <div class="autorenzeile">',
        f'    <span class="autor">Von {esc(byline_names(a, "de"))}</span>',
        f'    <time datetime="{a["published"].isoformat()}">{nordpost_time(a["published"])}</time>',
    ]
    if modified != a["published"]:
        L.append(f'    <span class="aktualisiert">Aktualisiert: {nordpost_time(modified)}</span>')
    L += ["  </div>", "</header>"]
    L += nordpost_bild(a, 0, True)
    L += ['<div class="artikel-text">']
    plan = insert_plan(a, body)
    for n, p in enumerate(body, 1):
        L.append(f'  <p class="absatz">{esc(p)}</p>')
        for kind, payload in plan.get(n, []):
            if kind == "img":
                L += ["  " + x for x in nordpost_bild(a, payload, False)]
            elif kind == "ad":
                L += [
                    '  <div class="anzeige">',
                    f'    <span class="anzeige-label">{Z["ad"]}</span>',
                    '    <div class="anzeige-slot" id="np-content-ad-1"></div>',
                    "  </div>",
                ]
            elif kind == "readmore":
                rm = readmore_of(a)
                L += [
                    '  <aside class="lesetipp">',
                    f'    <strong>{esc(Z["readmore"])}</strong> <a href="{url_of(rm)}">{esc(rm["title"])}</a>',
                    "  </aside>",
                ]
    L += ["</div>"]
    L += ['<div class="teilen">', f'  <span class="teilen-label">{esc(Z["share"][0])}</span>']
    for net, label in zip(["x", "facebook", "email"], Z["share"][1:], strict=False):
        L.append(
            f'  <button type="button" class="teilen-btn teilen-btn--{net}" {share_urlattrs(a)}>{esc(label)}</button>'
        )
    L += ["</div>"]
    L += ['<aside class="mehr-zum-thema">', f"  <h2>{esc(Z['related'])}</h2>", "  <ul>"]
    for r in related_for(a):
        L.append(f'    <li><a href="{url_of(r)}">{esc(r["title"])}</a></li>')
    L += ["  </ul>", "</aside>", "</article>"]
    L += [
        '<aside class="seitenleiste">',
        '  <section class="meistgelesen">',
        f"    <h2>{esc(Z['mostread'])}</h2>",
        "    <ol>",
    ]
    for r in most_read_for(a):
        L.append(f'      <li><a href="{url_of(r)}">{esc(r["title"])}</a></li>')
    L += ["    </ol>", "  </section>", "</aside>"]
    L += nordpost_newsletter()
    L += ["</main>"]
    L += nordpost_bottom()
    L += ["</body>", "</html>", ""]
    return "\n".join(L)


def render_nordpost_home():
    P = PUBS["nordpost"]
    arts = sorted(BY_PUB["nordpost"], key=lambda a: a["published"], reverse=True)
    L = [
        "<!DOCTYPE html>",
        '<html lang="de">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(P['name'])} | Nachrichten aus Nordhafen</title>",
        f'<meta name="description" content="{attr(P["description"])}">',
        f'<link rel="canonical" href="{home_url("nordpost")}">',
        f'<link rel="alternate" type="{P["feed_type"]}" title="{attr(P["name"])}" href="{BASE}/nordpost/{P["feed"]}">',
        f'<link rel="stylesheet" href="{BASE}/nordpost/static/site.css">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{attr(P["name"])}">',
        f'<meta property="og:url" content="{home_url("nordpost")}">',
        "</head>",
        "<body>",
    ]
    L += [x.replace('src="../../media/logo.png"', 'src="media/logo.png"') for x in nordpost_top()]
    L += ['<main class="inhalt startseite">']
    for s in P["sections"]:
        items = [a for a in arts if a["section"] == s]
        if not items:
            continue
        L += [f'<section class="ressort" id="{s.lower()}">', f"  <h2>{s}</h2>"]
        for a in items:
            src = img_src(a, 1).replace("../../media/", "media/")
            L += [
                '  <div class="teaser">',
                f'    <img src="{src}" alt="{attr(a["images"][0][0])}" width="320" height="180">',
                f'    <h3><a href="{url_of(a)}">{esc(a["title"])}</a></h3>',
                f"    <p>{esc(a['teaser'])}</p>",
                f'    <time datetime="{a["published"].isoformat()}">{nordpost_time(a["published"])}</time>',
                "  </div>",
            ]
        L += ["</section>"]
    L += [
        '<div class="anzeige">',
        f'  <span class="anzeige-label">{NOISE["nordpost"]["ad"]}</span>',
        "</div>",
    ]
    L += [*nordpost_newsletter(), "</main>", *nordpost_bottom(), "</body>", "</html>", ""]
    return "\n".join(L)


RENDER = {"harbor": render_harbor, "ledger": render_ledger, "nordpost": render_nordpost}
RENDER_HOME = {
    "harbor": render_harbor_home,
    "ledger": render_ledger_home,
    "nordpost": render_nordpost_home,
}


# ---------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------


def xesc(s):
    return html.escape(s, quote=False)


def xattr(s):
    return html.escape(s, quote=True)


def feed_items(pub):
    return sorted(BY_PUB[pub], key=lambda a: a["published"], reverse=True)


def harbor_guid(a):
    return f"harbor-{a['published']:%Y}-{a['published']:%m%d}-{a['slug']}"


def build_rss2():
    P = PUBS["harbor"]
    items = feed_items("harbor")
    last = max(a["modified"] for a in items)
    L = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"  <title>{xesc(P['name'])}</title>",
        f"  <link>{home_url('harbor')}</link>",
        f"  <description>{xesc(P['description'])}</description>",
        "  <language>en-us</language>",
        "  <copyright>Copyright 2026 The Harbor Courier</copyright>",
        f"  <lastBuildDate>{rfc822(last)}</lastBuildDate>",
        f'  <atom:link href="{BASE}/harbor/{P["feed"]}" rel="self" type="application/rss+xml"/>',
    ]
    for a in items:
        L += [
            "  <item>",
            f"    <title>{xesc(a['title'])}</title>",
            f"    <link>{url_of(a)}</link>",
            f'    <guid isPermaLink="false">{harbor_guid(a)}</guid>',
            f"    <pubDate>{rfc822(a['published'])}</pubDate>",
        ]
        L += [f"    <dc:creator>{xesc(n)}</dc:creator>" for n in a["authors"]]
        L += [f"    <category>{xesc(t)}</category>" for t in a["tags"]]
        L += [f"    <description>{xesc(a['teaser'])}</description>", "  </item>"]
    L += ["</channel>", "</rss>", ""]
    return "\n".join(L)


EDITION2_FEED_UPDATED = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def build_atom(edition):
    P = PUBS["ledger"]
    items = feed_items("ledger")

    def mod(a):
        return a["edition2"]["modified"] if (edition == 2 and a["edition2"]) else a["modified"]

    feed_updated = max(mod(a) for a in items)
    if edition == 2:
        feed_updated = max(feed_updated, EDITION2_FEED_UPDATED)
    L = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"  <title>{xesc(P['name'])}</title>",
        f"  <subtitle>{xesc(P['description'])}</subtitle>",
        f"  <id>{home_url('ledger')}</id>",
        f"  <updated>{utc_z(feed_updated)}</updated>",
        f'  <link rel="self" type="application/atom+xml" href="{BASE}/ledger/{P["feed"]}"/>',
        f'  <link rel="alternate" type="text/html" href="{home_url("ledger")}"/>',
        "  <rights>Copyright 2026 Lakeside Ledger Ltd</rights>",
    ]
    for a in items:
        L += [
            "  <entry>",
            f"    <id>{url_of(a)}</id>",
            f"    <title>{xesc(a['title'])}</title>",
            f'    <link rel="alternate" type="text/html" href="{url_of(a)}"/>',
            f"    <published>{utc_z(a['published'])}</published>",
            f"    <updated>{utc_z(mod(a))}</updated>",
        ]
        L += [f"    <author><name>{xesc(n)}</name></author>" for n in a["authors"]]
        L += [f'    <category term="{xattr(t)}"/>' for t in a["tags"]]
        L += [f'    <summary type="text">{xesc(a["teaser"])}</summary>', "  </entry>"]
    L += ["</feed>", ""]
    return "\n".join(L)


def build_rdf():
    P = PUBS["nordpost"]
    items = feed_items("nordpost")
    last = max(a["modified"] for a in items)
    L = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xml:lang="de">',
        f'  <channel rdf:about="{BASE}/nordpost/{P["feed"]}">',
        f"    <title>{xesc(P['name'])}</title>",
        f"    <link>{home_url('nordpost')}</link>",
        f"    <description>{xesc(P['description'])}</description>",
        "    <dc:language>de</dc:language>",
        "    <dc:publisher>Nordpost Verlag GmbH</dc:publisher>",
        "    <dc:rights>Copyright 2026 Nordpost Verlag GmbH</dc:rights>",
        f"    <dc:date>{last.isoformat()}</dc:date>",
        "    <items>",
        "      <rdf:Seq>",
    ]
    L += [f'        <rdf:li rdf:resource="{url_of(a)}"/>' for a in items]
    L += ["      </rdf:Seq>", "    </items>", "  </channel>"]
    for a in items:
        L += [
            f'  <item rdf:about="{url_of(a)}">',
            f"    <title>{xesc(a['title'])}</title>",
            f"    <link>{url_of(a)}</link>",
            f"    <description>{xesc(a['teaser'])}</description>",
            f"    <dc:date>{a['published'].isoformat()}</dc:date>",
        ]
        L += [f"    <dc:creator>{xesc(n)}</dc:creator>" for n in a["authors"]]
        L += [f"    <dc:subject>{xesc(t)}</dc:subject>" for t in a["tags"]]
        L += ["  </item>"]
    L += ["</rdf:RDF>", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------
# Static assets: tiny deterministic PNG placeholders and CSS
# ---------------------------------------------------------------------------


def png_bytes(seed, w=320, h=180):
    d = hashlib.md5(seed.encode("utf-8")).digest()
    c1, c2 = d[0:3], d[3:6]
    rows = []
    for y in range(h):
        t = y / (h - 1)
        px = bytes(int(c1[k] * (1 - t) + c2[k] * t) for k in range(3))
        band = px * w
        if h // 3 <= y < h // 3 + 6:  # a horizon line so it is not a flat gradient
            band = bytes(255 - v for v in px) * w
        rows.append(b"\x00" + band)
    raw = b"".join(rows)

    def chunk(tag, data):
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


CSS = {
    "harbor": "body{font-family:Georgia,serif;margin:0}.site-header{border-bottom:3px solid #0b3d63}"
    ".story{max-width:680px;margin:0 auto}.headline{font-size:2.2rem}.credit{color:#666;font-size:.8em}"
    ".cookie-consent{position:fixed;bottom:0;background:#eee;width:100%}.ad-slot{background:#f4f4f4;min-height:90px}\n",
    "ledger": "body{font-family:Arial,sans-serif;margin:0}.page{display:flex}.col-main{flex:3}.col-side{flex:1}"
    ".media-caption{font-size:.85em}.photo-credit{font-size:.75em;color:#777}.inline-teaser{border-left:4px solid #2a7}"
    ".cookie-bar{background:#222;color:#fff}.advert{background:#fafafa;min-height:250px}\n",
    "nordpost": "body{font-family:'Source Serif',serif;margin:0}.artikel{max-width:700px;margin:0 auto}"
    ".bildunterschrift{font-size:.85em}.copyright{color:#888;font-size:.75em}.lesetipp{background:#eef}"
    ".consent-layer{position:fixed;top:0;background:#fff}.anzeige{border:1px dashed #ccc}\n",
}


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------


def dedupe(seq):
    out = []
    for s in seq:
        if s not in out:
            out.append(s)
    return out


def noise_for(a):
    Z = NOISE[a["pub"]]
    rm = readmore_of(a)
    n = [Z["readmore"], rm["title"], Z["related"]] + [r["title"] for r in related_for(a)]
    if Z["mostread"]:
        n += [Z["mostread"]] + [r["title"] for r in most_read_for(a)]
    n += Z["newsletter"] + Z["share"] + [Z["cookie"], Z["ad"], Z["footer"]]
    return dedupe(n)


def manifest_entry(a):
    return {
        "path": path_of(a),
        "publisher": PUBS[a["pub"]]["name"],
        "language": PUBS[a["pub"]]["lang"],
        "title": a["title"],
        "authors": list(a["authors"]),
        "agency": a["agency"],
        "published_utc": utc_z(a["published"]),
        "tags": list(a["tags"]),
        "paywalled": a["paywalled"],
        "captions": [img[1] for img in a["images"]],
        "credits": [img[2] for img in a["images"]],
        "noise": noise_for(a),
        "body_first_sentence": sentences(a["body"][0])[0],
        "body_last_sentence": sentences(a["body"][-1])[-1],
        "syndication_group": a["group"],
        "edited": a["edition2"] is not None,
    }


def edition2_entry(a):
    old = set(s for p in a["body"] for s in sentences(p))
    new_body = a["edition2"]["body"]
    changed = [s for p in new_body[:-1] for s in sentences(p) if s not in old]
    return {
        "path": path_of(a),
        "body_last_sentence": sentences(new_body[-1])[-1],
        "changed_sentence": changed[0],
    }


# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def build():
    for d in (SITE, ED2):
        if d.exists():
            shutil.rmtree(d)
    for pub in PUBS:
        write(SITE / pub / "index.html", RENDER_HOME[pub]())
        write(SITE / pub / "static" / "site.css", CSS[pub])
        write(SITE / pub / "media" / "logo.png", png_bytes(pub + "-logo", 240, 48))
    for a in ARTICLES:
        write(SITE / path_of(a).lstrip("/"), RENDER[a["pub"]](a, a["body"], a["modified"]))
        for i in range(len(a["images"])):
            write(
                SITE / a["pub"] / "media" / img_file(a, i + 1),
                png_bytes(a["pub"] + "/" + img_file(a, i + 1)),
            )
        if a["edition2"]:
            write(
                ED2 / path_of(a).lstrip("/"),
                RENDER[a["pub"]](a, a["edition2"]["body"], a["edition2"]["modified"]),
            )
    write(SITE / "harbor" / PUBS["harbor"]["feed"], build_rss2())
    write(SITE / "ledger" / PUBS["ledger"]["feed"], build_atom(1))
    write(ED2 / "ledger" / PUBS["ledger"]["feed"], build_atom(2))
    write(SITE / "nordpost" / PUBS["nordpost"]["feed"], build_rdf())
    order = sorted(ARTICLES, key=lambda a: (list(PUBS).index(a["pub"]), a["published"]))
    write(
        SITE / "manifest.json",
        json.dumps([manifest_entry(a) for a in order], ensure_ascii=False, indent=2) + "\n",
    )
    write(
        SITE / "manifest-edition2.json",
        json.dumps(
            [edition2_entry(a) for a in ARTICLES if a["edition2"]], ensure_ascii=False, indent=2
        )
        + "\n",
    )


# ---------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
NAMESPACE_URIS = (
    "https://schema.org",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/rss/1.0/",
    "http://www.w3.org/2005/Atom",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
)


class StrictParser(HTMLParser):
    """Checks tag balance and collects a few things we want to compare."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.h1, self.in_h1, self.jsonld, self.in_ld, self.hrefs = [], False, [], False, []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "h1":
            self.in_h1 = True
            self.h1.append("")
        if tag == "script" and d.get("type") == "application/ld+json":
            self.in_ld = True
            self.jsonld.append("")
        if tag == "a" and "href" in d:
            self.hrefs.append(d["href"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag):
        if tag == "h1":
            self.in_h1 = False
        if tag == "script":
            self.in_ld = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.in_h1:
            self.h1[-1] += data
        if self.in_ld:
            self.jsonld[-1] += data


def shingles(text, k=5):
    w = re.findall(r"\w+", text.lower())
    return {" ".join(w[i : i + k]) for i in range(len(w) - k + 1)}


def verify():
    import xml.etree.ElementTree as ET

    problems = []

    def check(cond, msg):
        if not cond:
            problems.append(msg)

    manifest = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
    m2 = json.loads((SITE / "manifest-edition2.json").read_text(encoding="utf-8"))
    check(len(manifest) >= 33, "fewer than 33 articles")
    for pub in PUBS:
        check(11 <= len(BY_PUB[pub]) <= 12, f"{pub}: {len(BY_PUB[pub])} articles")
        check(sum(a["paywalled"] for a in BY_PUB[pub]) == 1, f"{pub}: paywalled count")

    all_paths = {path_of(a) for a in ARTICLES}
    for entry in manifest:
        a = next(x for x in ARTICLES if path_of(x) == entry["path"])
        f = SITE / entry["path"].lstrip("/")
        check(f.exists(), f"missing {f}")
        src = f.read_text(encoding="utf-8")
        p = StrictParser()
        p.feed(src)
        p.close()
        check(not p.errors and not p.stack, f"{entry['path']}: parse {p.errors[:3]} {p.stack}")
        check(p.h1 == [entry["title"]], f"{entry['path']}: h1 {p.h1}")
        ld = json.loads(p.jsonld[0])
        node = ld["@graph"][1] if "@graph" in ld else ld
        check(node["@type"] == "NewsArticle", "jsonld type")
        check(node["headline"] == entry["title"], f"{entry['path']}: jsonld headline")
        kw = (
            node["keywords"]
            if isinstance(node["keywords"], list)
            else [k.strip() for k in node["keywords"].split(",")]
        )
        check(kw == entry["tags"], f"{entry['path']}: keywords")
        check(
            node["isAccessibleForFree"] == (not entry["paywalled"]),
            f"{entry['path']}: paywall flag",
        )
        dp = datetime.fromisoformat(node["datePublished"].replace("Z", "+00:00"))
        check(utc_z(dp) == entry["published_utc"], f"{entry['path']}: datePublished")
        check(
            datetime(2026, 11, 2, tzinfo=UTC) <= dp < datetime(2026, 11, 29, tzinfo=UTC)
            and datetime(2026, 11, 2)
            <= a["published"].replace(tzinfo=None)
            < datetime(2026, 11, 29),
            f"{entry['path']}: date out of range",
        )
        people = [x["name"] for x in node["author"] if x["@type"] == "Person"]
        orgs = [x["name"] for x in node["author"] if x["@type"] == "Organization"]
        check(people == entry["authors"], f"{entry['path']}: authors")
        check(orgs == ([entry["agency"]] if entry["agency"] else []), f"{entry['path']}: agency")
        check(f'<link rel="canonical" href="{url_of(a)}">' in src, "canonical")
        for needle in ("og:title", "og:url", "article:published_time"):
            check(needle in src, f"{entry['path']}: {needle}")
        check(f'<html lang="{entry["language"]}">' in src, "lang")
        # body
        body = a["body"]
        body_text = "\n".join(body)
        words = sum(len(x.split()) for x in body)
        check(5 <= len(body) <= 9, f"{entry['path']}: {len(body)} paragraphs")
        check(250 <= words <= 600, f"{entry['path']}: {words} words")
        for para in body:
            check(esc(para) in src, f"{entry['path']}: paragraph not in source")
        for s in (entry["body_first_sentence"], entry["body_last_sentence"]):
            check(esc(s) == s, f"{entry['path']}: sentence needs escaping: {s}")
            check(esc(s) in src, f"{entry['path']}: sentence missing: {s}")
        check(
            entry["body_first_sentence"].endswith((".", "!", "?", "“", '"')),
            f"{entry['path']}: first sentence end",
        )
        abbrev = re.compile(
            r"(\b\d{1,2}|\b(Dr|Mr|Mrs|Ms|St|Nr|No|Jan|Feb|Aug|Sept|Oct|Nov|Dec|Dez|ca|bzw|z|B))\.$"
        )
        check(
            not abbrev.search(entry["body_first_sentence"]),
            f"{entry['path']}: first sentence cut at abbreviation",
        )
        last_sents = sentences(body[-1])
        check(
            len(last_sents) == 1 or not abbrev.search(last_sents[-2]),
            f"{entry['path']}: last sentence cut at abbreviation",
        )
        check(
            a["pub"] != "nordpost" or re.search(r"\d\. [A-ZÄÖÜ]", body_text) is None,
            f"{entry['path']}: ordinal date confuses sentence split",
        )
        for s in entry["captions"] + entry["credits"]:
            check(esc(s) in src, f"{entry['path']}: caption/credit missing: {s}")
        body_text = "\n".join(body)
        for nz in entry["noise"]:
            check(esc(nz) in src, f"{entry['path']}: noise not in page: {nz}")
            check(nz not in body_text, f"{entry['path']}: noise inside body: {nz}")
        for s in entry["captions"] + entry["credits"]:
            check(s not in body_text, f"{entry['path']}: caption in body")
        # links
        for h in p.hrefs:
            if h.startswith(BASE) and ".html" in h:
                target = h[len(BASE) :].split("#")[0]
                check(
                    target in all_paths or target.endswith("/index.html"),
                    f"{entry['path']}: dead link {h}",
                )
        rm = readmore_of(a)
        check(
            f'href="{url_of(rm)}">{esc(rm["title"])}</a>' in src, f"{entry['path']}: read-more link"
        )
        check(2 <= len(related_for(a)) <= 4, "related count")
        check(len(a["images"]) >= 1 and a["images"][0][3] == 0, "lead image")
        for i in range(len(a["images"])):
            check((SITE / a["pub"] / "media" / img_file(a, i + 1)).exists(), "image file")

    # at least a few two-author articles, some two-image articles
    check(sum(len(a["authors"]) > 1 for a in ARTICLES) >= 3, "two-author articles")
    check(sum(len(a["images"]) > 1 for a in ARTICLES) >= 3, "two-image articles")

    # wire pairs
    for g in ("cpa-1", "cpa-2"):
        pair = [a for a in ARTICLES if a["group"] == g]
        check(len(pair) == 2 and {a["pub"] for a in pair} == {"harbor", "ledger"}, f"{g}: pair")
        x, y = pair
        check(x["title"] != y["title"], f"{g}: titles equal")
        check(sentences(x["body"][0])[0] != sentences(y["body"][0])[0], f"{g}: ledes equal")
        long_, short = (x, y) if len(x["body"]) > len(y["body"]) else (y, x)
        check(
            short["body"][1:] == long_["body"][1 : len(short["body"])], f"{g}: shared body differs"
        )
        check(len(long_["body"]) - len(short["body"]) == 3, f"{g}: expected cut(2)+extra(1)")

    # originality: no two bodies overlap except wire pairs
    sh = {path_of(a): shingles(" ".join(a["body"])) for a in ARTICLES}
    for i, a in enumerate(ARTICLES):
        for b in ARTICLES[i + 1 :]:
            A, B = sh[path_of(a)], sh[path_of(b)]
            j = len(A & B) / len(A | B)
            same_group = a["group"] and a["group"] == b["group"]
            check(
                (j > 0.5) if same_group else (j < 0.05),
                f"similarity {path_of(a)} {path_of(b)} {j:.2f}",
            )
    titles = [a["title"] for a in ARTICLES]
    check(len(set(titles)) == len(titles), "duplicate titles")

    # feeds
    ns = {
        "atom": "http://www.w3.org/2005/Atom",
        "rss": "http://purl.org/rss/1.0/",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "dc": "http://purl.org/dc/elements/1.1/",
    }

    def expect(pub):
        return [url_of(a) for a in sorted(BY_PUB[pub], key=lambda a: a["published"], reverse=True)]

    rss = ET.parse(SITE / "harbor" / "feed.rss").getroot()
    check([i.findtext("link") for i in rss.iter("item")] == expect("harbor"), "rss2 items")
    check(rss.find("channel/title").text == PUBS["harbor"]["name"], "rss2 title")
    atom1 = ET.parse(SITE / "ledger" / "atom.xml").getroot()
    atom2 = ET.parse(ED2 / "ledger" / "atom.xml").getroot()
    for at in (atom1, atom2):
        check(
            [e.find("atom:link", ns).get("href") for e in at.findall("atom:entry", ns)]
            == expect("ledger"),
            "atom items",
        )
        check(at.find("atom:title", ns).text == PUBS["ledger"]["name"], "atom title")
    check(
        atom2.find("atom:updated", ns).text > atom1.find("atom:updated", ns).text,
        "atom2 feed updated",
    )
    rdf = ET.parse(SITE / "nordpost" / "rss.rdf").getroot()
    check(
        [i.findtext("rss:link", namespaces=ns) for i in rdf.findall("rss:item", ns)]
        == expect("nordpost"),
        "rdf items",
    )
    check(
        [li.get(f"{{{ns['rdf']}}}resource") for li in rdf.iter(f"{{{ns['rdf']}}}li")]
        == expect("nordpost"),
        "rdf seq",
    )

    # edition 2
    ed2_files = sorted(str(f.relative_to(ED2)) for f in ED2.rglob("*") if f.is_file())
    edited = [a for a in ARTICLES if a["edition2"]]
    check(len(edited) == 1, "exactly one edited article")
    e = edited[0]
    check(
        ed2_files == sorted(["ledger/atom.xml", path_of(e).lstrip("/")]),
        f"edition2 files {ed2_files}",
    )
    s1 = (SITE / path_of(e).lstrip("/")).read_text(encoding="utf-8")
    s2 = (ED2 / path_of(e).lstrip("/")).read_text(encoding="utf-8")
    check(len(m2) == 1 and m2[0]["path"] == path_of(e), "manifest-edition2 path")
    check(
        esc(m2[0]["changed_sentence"]) in s2 and esc(m2[0]["changed_sentence"]) not in s1,
        "changed sentence",
    )
    check(
        esc(m2[0]["body_last_sentence"]) in s2 and esc(m2[0]["body_last_sentence"]) not in s1,
        "ed2 last sentence",
    )
    check(e["edition2"]["body"][-1].startswith(("Correction:", "Update:")), "correction paragraph")
    check(f"<h1>{esc(e['title'])}</h1>" in s2, "ed2 headline")
    check('"dateModified": "2026-11-29T09:00:00Z"' in s2, "ed2 dateModified")
    a1 = (SITE / "ledger" / "atom.xml").read_text(encoding="utf-8").splitlines()
    a2 = (ED2 / "ledger" / "atom.xml").read_text(encoding="utf-8").splitlines()
    diff = [(x, y) for x, y in zip(a1, a2, strict=False) if x != y]
    check(len(a1) == len(a2) and len(diff) == 2, f"atom edition diff {diff}")
    check(any("2026-11-29T09:00:00Z" in y for _, y in diff), "atom edition2 updated")

    # absolute URLs and general parse of every text file
    for f in sorted(list(SITE.rglob("*")) + list(ED2.rglob("*"))):
        if not f.is_file() or f.suffix in (".png",):
            continue
        txt = f.read_text(encoding="utf-8")
        for m in re.finditer(r"https?://[^\s\"'<>]*", txt):
            check(m.group(0) in NAMESPACE_URIS, f"{f}: absolute URL {m.group(0)}")
        check(not re.search(r"(href|src|content|action)=\"//", txt), f"{f}: protocol-relative URL")
        if f.suffix == ".html":
            p = StrictParser()
            p.feed(txt)
            p.close()
            check(not p.errors and not p.stack, f"{f}: parse errors {p.errors[:3]}")
        elif f.suffix in (".rss", ".xml", ".rdf"):
            ET.fromstring(txt.encode("utf-8"))
        elif f.suffix == ".json":
            json.loads(txt)
    for pub in PUBS:
        check((SITE / pub / "index.html").exists(), f"{pub} homepage")

    if problems:
        print("CHECK FAILED:")
        for x in problems:
            print("  -", x)
        return False
    print(
        f"OK: {len(ARTICLES)} articles "
        + ", ".join(f"{p}={len(BY_PUB[p])}" for p in PUBS)
        + "; all checks passed"
    )
    return True


if __name__ == "__main__":
    build()
    sys.exit(0 if verify() else 1)
