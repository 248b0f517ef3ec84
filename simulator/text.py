"""Text generators for the simulator: messages, slogans, relays, summaries.

Every generator takes the caller's ``random.Random`` so output stays
reproducible. Two invariants matter to the detection rules and are tested:

* a *specific* message (``specific_team``, ``specific_rep``, ``directive``)
  always contains a digit or a weekday name, and names an account, a number,
  a date or a concrete action;
* a *slogan* never contains a digit, a weekday or month name, an account or
  product name, or a concrete action word (send, call, email, book, update,
  bring, today, tomorrow); capitals only start sentences. Slogans come from a
  grammar with hundreds of thousands of combinations, so a rule cannot
  memorise the list.
"""

from __future__ import annotations

import random
import re

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MONTHS = (
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
)
TIMES = ("9am", "9:30", "10am", "10:30", "11am", "1pm", "2pm", "2:30", "3pm", "4pm", "4:30pm")

ACCOUNTS = (
    "Alderbank",
    "Brightwater Logistics",
    "Cobalt Freight",
    "Dunmore Health",
    "Everline Foods",
    "Fairhaven Bank",
    "Granite Peak Energy",
    "Harborview Clinics",
    "Ironbridge Steel",
    "Juniper Retail",
    "Kestrel Aviation",
    "Lakeshore Insurance",
    "Meridian Pharma",
    "Northgate Telecom",
    "Oakridge Schools",
    "Pinecrest Hotels",
    "Quarry Labs",
    "Redfern Media",
    "Silverline Rail",
    "Tidewater Ports",
    "Upland Dairy",
    "Vantage Mining",
    "Westbrook Mutual",
    "Yellowpine Builders",
    "Zephyr Wind",
    "Ashgrove Council",
    "Bluefin Seafood",
    "Copperleaf Homes",
    "Driftwood Outdoor",
    "Emberline Foundry",
    "Foxglove Cosmetics",
    "Glasshouse Studios",
    "Hollowell Water",
    "Indigo Textiles",
    "Jetstream Couriers",
    "Kingsmead College",
    "Larkspur Clinics",
    "Moorfield Chemicals",
    "Nettlebed Farms",
    "Orchard Street Bank",
)
PRODUCTS = (
    "the analytics module",
    "the API tier",
    "the onboarding package",
    "Sync Pro",
    "the compliance add-on",
    "the mobile app",
    "the reporting suite",
    "the data connector",
)
COMPETITORS = ("Vexlo", "Norvana", "Quillstack", "Brightpath", "Cindral")
SEGMENTS = (
    "mid-market manufacturing",
    "enterprise healthcare",
    "public sector",
    "retail chains",
    "financial services",
    "logistics",
    "higher education",
    "regional utilities",
)
THEMES = (
    "cost savings",
    "risk reduction",
    "speed to value",
    "compliance",
    "customer experience",
    "consolidating tools",
    "data quality",
)
REGIONS = ("northern", "coastal", "metro", "midlands", "west", "south-east")
COACHING_TOPICS = (
    "discovery questions",
    "objection handling",
    "value story",
    "negotiation",
    "qualification",
    "demo flow",
    "closing",
    "pipeline hygiene",
    "account strategy",
    "prospecting",
    "multithreading",
    "pricing conversations",
)
ROLEPLAY_TOPICS = (
    "handling the 'send me a proposal' brush-off",
    "getting to the economic buyer",
    "the 'we already have a tool' objection",
    "asking for the budget early",
    "closing for a next step",
)
KPI_NAMES = (
    "win rate",
    "pipeline coverage",
    "average deal size",
    "sales cycle length",
    "forecast accuracy",
    "quota attainment",
    "new opportunities created",
    "stage conversion",
    "calls per day",
    "emails per day",
    "meetings booked",
    "CRM hygiene score",
    "discount rate",
    "renewal rate",
    "net revenue retention",
    "demo-to-close rate",
    "lead response time",
    "upsell revenue",
    "multi-year share",
    "activity score",
    "proposal turnaround",
    "first-meeting rate",
    "partner-sourced pipeline",
    "average days in stage",
)
REPORT_NAMES = (
    "pipeline by stage",
    "forecast vs commit",
    "activity summary",
    "win/loss by reason",
    "commission statement",
    "quota attainment",
    "deal aging",
    "territory coverage",
    "split reconciliation",
    "discount analysis",
    "rep leaderboard",
    "bookings by product",
)
LOSS_REASONS = (
    ("Chose a competitor", "competition"),
    ("Price too high", "price"),
    ("No budget this year", "budget"),
    ("No decision made", "no_decision"),
    ("Project postponed", "timing"),
    ("Missing feature", "product"),
    ("Stayed with incumbent", "competition"),
)

# ---------------------------------------------------------------------------
# specific messages


def _slots(rng: random.Random) -> dict[str, object]:
    acct, acct2 = rng.sample(ACCOUNTS, 2)
    first = rng.randint(1, 40)
    return {
        "acct": acct,
        "acct2": acct2,
        "day": rng.choice(WEEKDAYS),
        "time": rng.choice(TIMES),
        "n": rng.randint(2, 5),
        "n2": rng.randint(3, 9),
        "k": rng.choice((25, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250)),
        "pct": rng.choice((5, 8, 10, 12, 15, 20, 25)),
        "cov": rng.choice(("2.1x", "2.4x", "2.7x", "1.8x", "3.1x")),
        "dom": rng.randint(3, 28),
        "m1": first,
        "m2": first + rng.randint(3, 8),
        "product": rng.choice(PRODUCTS),
        "topic": rng.choice(ROLEPLAY_TOPICS),
        "month": rng.choice(MONTHS),
        "segment": rng.choice(SEGMENTS),
        "comp": rng.choice(COMPETITORS),
    }


SPECIFIC_TEAM = (
    "{acct} renewal: send the revised quote by {day}.",
    "Pipeline review moved to {time}, bring your top {n} deals.",
    ("Forecast call {day} at {time}: update close dates and next steps on everything over {k}k before then."),
    ("{acct} signed for {k}k, nice work. Write up what got their CFO over the line so we can reuse it on {acct2}."),
    ("Objection drill {day}: bring one pricing objection you heard this week and how you answered it."),
    ("We are at {pct}% of the quarter's gap closed with {n} weeks left; the rest sits in the {n2} deals in proposal."),
    ("Anyone with a deal in negotiation over {k}k: book 15 minutes with me before {day} to plan the close."),
    (
        "Loss review {day} {time}: {acct} went to {comp} on price; let's find where discovery "
        "missed the budget question."
    ),
    ("Please fill in the qualification fields on every deal created after the {dom}th; {n2} of ours are still blank."),
    ("Bright spot from the {acct} call: minutes {m1} to {m2} show a great way to handle the security question."),
    ("{acct} and {acct2} both close this month: confirm the paper process with their procurement by {day}."),
    ("New pricing sheet is live: quotes above {k}k use the {pct}% multi-year discount, not the old table."),
    ("Coverage check: we need 3x for next quarter and we are at {cov}. Add two qualified opportunities each by {day}."),
    "Win-loss readout {day} at {time}: {n} wins and {n2} losses this month, most losses on timing.",
    ("{acct} wants a reference call with a {segment} customer before {day}; who can introduce {acct2}?"),
    "Role-play {day} {time}: {topic}. 20 minutes in pairs, I'll bring the scenarios.",
    "The close plan template is updated; use it for any deal closing before the {dom}th.",
    "Legal turnaround on contracts is {n} days this month, so send the {acct} redlines today.",
    ("{product} demo environment is down until {time} {day}; use the recorded walkthrough until then."),
    ("Team huddle {day} {time}: each of you walk us through one stalled deal and the next step you'll take."),
    ("{acct} procurement asked for {n} references and a security pack; I'll pull the pack together by {day}."),
    ("Next week's focus: get a confirmed decision date on the {n2} deals without one. We'll check progress {day}."),
    ("Shadowing slots for {day}: sit in on {acct}'s discovery call at {time} if you want to hear the new opener."),
    ("Price increase lands on the {dom}th: anything quoted before then at old prices needs signing by {day}."),
)

SPECIFIC_REP = (
    "On {acct}: ask about their budget cycle and loop in the solutions engineer by {day}.",
    "Your {acct} deal has had no activity for {n2} days. What's the next step? Let's talk {day}.",
    ("Good call with {acct} this morning. Next time confirm the decision date before the demo; 5 minutes on it {day}?"),
    "Can you send me the mutual close plan for {acct} before our 1:1 on {day}?",
    "{acct} opened the proposal {n} times since {day}; worth a call today.",
    ("For {acct}, run the ROI calculator with their {k}k spend figure before the follow-up on {day}."),
    "Nice job moving {acct} to negotiation. Get the procurement contact's name by {day}.",
    "Please update the close date on {acct}: it says the {dom}th but they told you next month.",
    "Before {day}, map who else at {acct} signs off above {k}k; we only know one contact.",
    "Let's prep the {acct} pricing call together at {time} {day}; bring their current contract.",
)

DIRECTIVES_TEAM = (
    "Everyone must update their forecast in the CRM by {day} {time}. No exceptions.",
    "I expect {n} new qualified opportunities from each of you by the {dom}th.",
    "All reps must log every customer call the same day. I will check the report on {day}.",
    "Effective immediately, every deal over {k}k needs my sign-off before a quote goes out.",
    "I expect pipeline coverage of {n}x from every one of you by {day}.",
    "Everyone must submit account plans for their top {n} accounts by {day}.",
    "No discounts above {pct}% without my written approval. This is not optional.",
    "I expect all close dates to be accurate by {day} {time}; the report goes upstairs after that.",
    "Everyone must attend the {time} forecast call on {day}, cameras on.",
    "I expect every deal over {k}k to have a documented next step by {day}.",
)

DIRECTIVES_REP = (
    "I expect your forecast updated by {day} {time}.",
    "Your numbers are behind. I expect {n} new meetings booked by {day}.",
    "Get the {acct} paperwork to legal by {day}. I expect it done.",
    "I expect your pipeline notes complete before {day}.",
)

ACTIVITY_REMINDERS = (
    "Reminder: {calls} dials a day is the floor, not the target. Dashboard check at {time}.",
    "Activity board for {day}: anyone under {calls} calls by 3pm, stay on the phones.",
    "We were {n2} meetings short of the weekly minimum. Book them before {day}.",
)


def _fill(template: str, rng: random.Random, **extra: object) -> str:
    slots = _slots(rng)
    slots.update(extra)
    return template.format(**slots)


def specific_team(rng: random.Random) -> str:
    return _fill(rng.choice(SPECIFIC_TEAM), rng)


def specific_rep(rng: random.Random) -> str:
    return _fill(rng.choice(SPECIFIC_REP), rng)


def directive(rng: random.Random, audience: str) -> str:
    pool = DIRECTIVES_TEAM if audience == "team" else DIRECTIVES_REP
    return _fill(rng.choice(pool), rng)


def activity_reminder(rng: random.Random) -> str:
    return _fill(rng.choice(ACTIVITY_REMINDERS), rng, calls=rng.choice((40, 50, 60, 70, 80)))


# ---------------------------------------------------------------------------
# slogans: a combinatorial grammar of truisms with nothing to act on

_OPENERS = (
    "",
    "remember:",
    "never forget:",
    "team,",
    "folks,",
    "at the end of the day,",
    "here's the thing:",
    "always remember,",
    "bottom line:",
    "food for thought:",
    "let's be clear:",
    "thought for the week:",
    "say it with me:",
    "truth is,",
    "as they say,",
    "one more time:",
    "never lose sight of this:",
    "keep in mind,",
    "quick reminder,",
    "people,",
)
_SUBJECTS = (
    "success",
    "winning",
    "excellence",
    "greatness",
    "commitment",
    "attitude",
    "passion",
    "hustle",
    "belief",
    "momentum",
    "focus",
    "ownership",
    "grit",
    "the right mindset",
    "energy",
    "teamwork",
    "resilience",
    "drive",
    "consistency",
    "discipline",
    "confidence",
    "hunger",
    "persistence",
    "a positive attitude",
)
_PREDICATES = (
    "is a journey, not a destination",
    "is a choice we make every day",
    "starts from within",
    "never takes a day off",
    "is contagious",
    "is what separates good from great",
    "comes to those who want it most",
    "is built one step at a time",
    "is the fuel of champions",
    "is not given, it is earned",
    "makes the dream work",
    "opens every door",
    "is everything",
    "is the name of the game",
    "wins championships",
    "lives outside the comfort zone",
    "is the real difference",
    "turns obstacles into opportunities",
    "always finds a way",
    "beats talent every time",
    "is a habit, not an act",
    "is the secret sauce",
    "is what this team is made of",
    "never goes out of style",
)
_CLOSERS = (
    "",
    " Let's go!",
    " Believe it.",
    " Own it.",
    " Stay hungry.",
    " Keep pushing.",
    " Make it happen.",
    " Think big.",
    " Dream bigger.",
    " Onward and upward!",
    " No excuses.",
    " Eyes on the prize.",
    " Let's crush it.",
    " Bring the energy!",
    " You've got this.",
    " Stay positive.",
)
_GROUP_GOOD = (
    "winners",
    "great teams",
    "champions",
    "top performers",
    "real closers",
    "the best sellers",
)
_DO_GOOD = (
    "find a way",
    "make their own luck",
    "never stop believing",
    "see opportunity everywhere",
    "rise to the challenge",
    "focus on what they can control",
    "show up every day",
    "outwork the competition",
)
_GROUP_BAD = ("everyone else", "average teams", "the rest", "ordinary players", "the competition")
_DO_BAD = (
    "find an excuse",
    "wait for luck",
    "give up too early",
    "see problems everywhere",
    "complain about the weather",
    "make excuses",
    "stay in their comfort zone",
)
_NOUNS = (
    "success",
    "growth",
    "victory",
    "reward",
    "progress",
    "greatness",
    "glory",
    "achievement",
    "excellence",
    "results",
)
_COSTS = (
    "sacrifice",
    "effort",
    "struggle",
    "commitment",
    "belief",
    "discipline",
    "hard work",
    "risk",
    "resilience",
    "passion",
)
_THINGS = ("a job", "a number", "a transaction", "a task", "a sprint", "a game")
_CALLINGS = (
    "a calling",
    "a mindset",
    "a way of life",
    "a marathon",
    "a relationship",
    "an attitude",
)
_ABSTRACT_ACTIONS = (
    "dream big",
    "stay hungry",
    "think positive",
    "aim higher",
    "never settle",
    "believe in yourself",
    "embrace the grind",
    "trust the process",
    "own your destiny",
    "play to win",
    "stay humble",
    "keep the faith",
    "chase greatness",
    "be unstoppable",
)


def slogan(rng: random.Random) -> str:
    """One truism, built from a grammar with hundreds of thousands of outcomes."""
    pattern = rng.randrange(6)
    if pattern <= 1:
        opener = rng.choice(_OPENERS)
        body = f"{rng.choice(_SUBJECTS)} {rng.choice(_PREDICATES)}."
        text = f"{opener} {body}" if opener else body
    elif pattern == 2:
        text = f"{rng.choice(_GROUP_GOOD)} {rng.choice(_DO_GOOD)}; {rng.choice(_GROUP_BAD)} {rng.choice(_DO_BAD)}."
    elif pattern == 3:
        a, b = rng.choice(_NOUNS), rng.choice(_COSTS)
        text = f"{rng.choice(_OPENERS) or 'remember:'} there is no {a} without {b}."
    elif pattern == 4:
        a, b = rng.sample(_ABSTRACT_ACTIONS, 2)
        text = f"{a}, {b}."
    else:
        text = f"selling is not {rng.choice(_THINGS)}, it's {rng.choice(_CALLINGS)}."
    text = text[0].upper() + text[1:] + rng.choice(_CLOSERS)
    return text


# ---------------------------------------------------------------------------
# executive messages and how they are passed on

EXEC_SOURCES = ("exec-cro", "exec-vp-sales", "exec-cfo", "exec-cmo", "exec-ceo")

# topic -> (original templates, context templates). Context templates explain what
# the news means for this team and never quote the original.
_RELAY_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "discounts": (
        (
            "All discounts above {pct}% now require CFO approval, effective immediately.",
            "Discount approvals over {pct}% move to the CFO starting today.",
        ),
        (
            (
                "Finance is tightening discount sign-off: past {pct}% it now goes to the CFO, "
                "which adds "
                "about {n} days. That touches our {acct} and {acct2} quotes, so if you are above "
                "the line "
                "on either, see me before {day} and we will rework the package instead of waiting "
                "on approval."
            ),
            (
                "Short version of the finance note: big discounts now need the CFO, and that queue "
                "is slow. "
                "For us it means building value earlier; for the {acct} deal I'd rather trade a "
                "longer term "
                "than more price. Bring me your open quotes on {day} at {time} and we'll sort them."
            ),
        ),
    ),
    "launch": (
        (
            "{product} launches on {month} {dom}; enablement sessions will follow.",
            "We are launching {product} on {month} {dom}.",
        ),
        (
            (
                "The launch of {product} is set for {month} {dom}. It matters for {acct} and "
                "{acct2}, who "
                "both asked for it, so hold their next meetings until after launch week. I'll run "
                "a "
                "30-minute walkthrough {day} at {time} so nobody demos it cold."
            ),
            (
                "Launch news: {product} goes live {month} {dom}. Don't promise it in current "
                "proposals "
                "until pricing is out; for deals closing before then, position the existing tier "
                "and note "
                "the upgrade path. Questions to me before {day}."
            ),
        ),
    ),
    "priorities": (
        (
            "Our focus for the rest of the quarter is expansion revenue in existing accounts.",
            "Leadership priority this quarter: expansion in the installed base.",
        ),
        (
            (
                "The company wants more growth from current customers this quarter. For our patch "
                "the "
                "obvious candidates are {acct} and {acct2}, where usage has grown; each of you "
                "pick two "
                "customers and book an account review before {day}. I'll help with the business "
                "cases."
            ),
            (
                "Expansion is the company theme until quarter end. That doesn't mean dropping new "
                "logos, "
                "but a renewal with an upsell counts double in the review, so check which of your "
                "{n2} customers are near a tier limit and bring the list to Monday's meeting."
            ),
        ),
    ),
    "hygiene": (
        (
            "Every open opportunity must have a next step and a realistic close date.",
            "Reminder: all opportunities need a next step and an accurate close date.",
        ),
        (
            (
                "Leadership is auditing pipeline quality. Practically: anything with a close date "
                "in the "
                "past or no next step will be flagged on {day}, and we have {n2} of those. Fix "
                "yours by "
                "{time} {day}; if a deal has really stalled, tell me and we'll decide together "
                "whether to keep it."
            ),
            (
                "Pipeline audit coming: they will look at next steps and stale close dates. Our "
                "weak spot "
                "is deals sitting in proposal for more than {n} weeks. Please go through yours "
                "before "
                "{day} and move what is real, close what isn't."
            ),
        ),
    ),
    "freeze": (
        (
            "Hiring freeze until further notice; backfills need VP approval.",
            "There is a hiring freeze; replacements require VP sign-off.",
        ),
        (
            (
                "There will be no new headcount for now. For us that means the {region} territory "
                "stays "
                "split between the current team, so I'm moving {acct} to whoever has the lightest "
                "load and "
                "will confirm on {day}. If your pipeline is over {n2} deals, tell me."
            ),
            (
                "Headcount is frozen for the time being. We keep our open seat empty, so I'll take "
                "the "
                "inbound leads for that patch myself until {month} and share anything qualified at "
                "the "
                "{day} meeting. No change to your targets from this."
            ),
        ),
    ),
    "pricing": (
        (
            "New list prices take effect on {month} {dom}.",
            "Price list update goes live {month} {dom}.",
        ),
        (
            (
                "Prices go up on {month} {dom}, roughly {pct}% on the core tiers. Use it honestly: "
                "customers like {acct} who are already close can sign at today's price. I'll check "
                "every "
                "quote over {k}k on {day} to make sure we're not sandbagging deals into next month."
            ),
            (
                "The price change on {month} {dom} gives us a real reason to ask for a decision "
                "now. For "
                "renewals it only applies at the next term, so don't use it as pressure on {acct}. "
                "Updated "
                "quote templates are in the shared folder from {day}."
            ),
        ),
    ),
    "forecast": (
        (
            ("Forecast accuracy is a priority this quarter; commits should land within {pct}% of actuals."),
            "We need commits within {pct}% of actuals this quarter.",
        ),
        (
            (
                "Leadership will judge forecasts on accuracy, not optimism. So in our {day} call "
                "I'll ask "
                "for evidence on anything you commit: a decision date the customer confirmed and a "
                "paper "
                "process we know. {acct} is a good example of a deal that should be best case, not "
                "commit."
            ),
            (
                "They want forecasts within {pct}% of what we actually book. Our last {n} months "
                "missed by "
                "more than that, mostly on slips. Before {day}, mark each commit deal with who "
                "signs and "
                "when; if you can't answer, it moves to best case."
            ),
        ),
    ),
    "partners": (
        (
            "Partner-sourced deals now count toward quota.",
            "We are expanding the partner program; partner deals count for quota.",
        ),
        (
            (
                "Partner deals now count toward your number. In our region that's mainly the "
                "{region} "
                "resellers; {acct} came in that way last quarter. I'll set up intros on {day} for "
                "anyone "
                "who wants them; register deals in the partner portal within {n} days or they "
                "won't count."
            ),
            (
                "From now on partner-sourced business counts for quota. It won't change much for "
                "{acct}-"
                "size deals, but for small accounts under {k}k it may be faster to hand over to a "
                "partner. "
                "Let's agree which ones at {time} {day}."
            ),
        ),
    ),
}


def exec_message(rng: random.Random) -> tuple[str, str, dict[str, object]]:
    """(topic, original text, slots) for one message from above."""
    topic = rng.choice(sorted(_RELAY_TOPICS))
    slots = _slots(rng)
    slots["region"] = rng.choice(REGIONS)
    original = rng.choice(_RELAY_TOPICS[topic][0]).format(**slots)
    return topic, original, slots


def relay_with_context(rng: random.Random, topic: str, slots: dict[str, object]) -> str:
    """A rewrite that explains what the message means for the team; never quotes it."""
    fresh = _slots(rng)
    merged = dict(fresh)
    # keep the facts of the original (percentages, dates, product) consistent
    for key in ("pct", "product", "month", "dom", "region"):
        if key in slots:
            merged[key] = slots[key]
    return rng.choice(_RELAY_TOPICS[topic][1]).format(**merged)


_TRIVIAL_PREFIXES = (
    "FYI: ",
    "Fwd: ",
    "FW: ",
    "fyi - ",
    "Please note: ",
    "From leadership: ",
    "See below. ",
    "Passing this on: ",
)


def relay_trivial(rng: random.Random, original: str) -> str:
    """Pass a message on unchanged or with a cosmetic edit only."""
    choice = rng.random()
    text = original
    if choice < 0.3:
        return text
    if choice < 0.75:
        text = rng.choice(_TRIVIAL_PREFIXES) + text
    elif choice < 0.85:
        text = text.lower() if rng.random() < 0.7 else text.upper()
    else:
        text = text.rstrip(".") + rng.choice(("", "!", " !!", ".."))
    if rng.random() < 0.15:
        text = text.replace(";", ",")
    return text


_NON_WORD = re.compile(r"[^a-z0-9]+")
_PREFIX_WORDS = re.compile(r"^(fyi|fwd|fw|please note|from leadership|see below|passing this on)\b")


def normalise_relay(text: str) -> str:
    """Lower-case alphanumerics with any forwarding prefix removed (used by tests)."""
    lowered = text.lower().strip()
    lowered = _PREFIX_WORDS.sub("", lowered)
    return _NON_WORD.sub("", lowered)


# ---------------------------------------------------------------------------
# strategy, forecast misses

_STRATEGY = {
    "target_market": (
        "Shift prospecting toward {segment} accounts; {segment2} is no longer a priority.",
        "New ideal customer profile: {segment} with more than {n2}00 employees.",
        "Stop outbound into {segment}; focus on {segment2} where our win rate is higher.",
    ),
    "messaging": (
        "Lead first calls with {theme} instead of {theme2}.",
        "Replace the feature-led pitch with a {theme} story in every first meeting.",
        "New talk track: open on {theme}, bring {theme2} in only at the proposal stage.",
    ),
    "focus_product": (
        "Position {product} as the entry offer this quarter.",
        "Every new proposal must include {product}.",
        "Stop leading with {product}; lead with the core platform.",
    ),
    "territory": (
        "Rebalance territories: {region} accounts are split across the team by industry.",
        "Move from geographic to vertical territories, starting with {segment}.",
        "Named-account model for the top {n2}0 accounts in the {region} region.",
    ),
    "process": (
        "Mandatory discovery checklist before any demo.",
        "Proposals now need a mutual close plan signed off by the customer.",
        "Deal desk review for every opportunity over {k}k.",
    ),
    "priorities": (
        "Renewals before new logos until quarter end.",
        "New logos first; renewals go to account management.",
        "Focus on deals above {k}k; small deals go to the inside team.",
    ),
}
STRATEGY_AREAS = tuple(_STRATEGY)


def strategy_summary(rng: random.Random, area: str) -> str:
    extra = {
        "segment2": rng.choice(SEGMENTS),
        "theme": rng.choice(THEMES),
        "theme2": rng.choice(THEMES),
        "region": rng.choice(REGIONS),
    }
    return _fill(rng.choice(_STRATEGY[area]), rng, **extra)


EXTERNAL_CAUSES = ("market", "competition", "product", "pricing", "timing")
INTERNAL_CAUSES = ("execution", "qualification", "pipeline", "skills", "process")

_MISS_TEXT = {
    "market": (
        "Budgets tightened across {segment}; buyers are delaying spend.",
        "The market is soft right now. Nobody in {segment} is signing anything this quarter.",
        "Macro conditions hit us: {n} customers froze purchasing.",
    ),
    "competition": (
        "{comp} undercut us on {acct} and two other late-stage deals.",
        "{comp} is buying deals with discounts we can't match.",
        "Lost {acct} to {comp}; they are giving the product away.",
    ),
    "product": (
        "Missing features cost us {acct}; the roadmap date slipped again.",
        "{product} isn't ready, and customers like {acct} won't sign without it.",
        "Product gaps keep coming up; {n} deals stalled on the integration question.",
    ),
    "pricing": (
        "Our pricing is out of line with the market; {acct} walked over a {pct}% gap.",
        "The new price list made us uncompetitive on {n} deals.",
        "Customers see us as too expensive; {acct} said so directly.",
    ),
    "timing": (
        "{acct} and {acct2} slipped into next month because of their fiscal calendar.",
        "Bad timing: {n} deals got caught in customers' budget resets.",
        "Holiday season at {acct} pushed signatures out by {n} weeks.",
    ),
    "execution": (
        "We didn't multithread {acct}; when our champion left, the deal stalled.",
        "We let {n2} deals sit without a next step for weeks. That's on us.",
        "Proposals went out late on {acct} and {acct2}; we lost momentum.",
    ),
    "qualification": (
        "{n} of the slipped deals never had a confirmed budget; we qualified too loosely.",
        "We carried {acct} as commit without knowing who signs. Lesson learned.",
        "Too many deals in the forecast without a real decision process.",
    ),
    "pipeline": (
        "We entered the month with {cov} coverage; not enough early-stage pipeline was built.",
        "Pipeline generation dropped in {month}; we are paying for it now.",
        "The top of the funnel was thin: {n2} new opportunities against a plan of {n2}0.",
    ),
    "skills": (
        "Negotiation was weak on {acct}; we conceded {pct}% without getting anything back.",
        "Discovery on {acct} missed the real pain, so the proposal didn't land.",
        "The team struggled with the security objection; {n} deals stalled there.",
    ),
    "process": (
        "Deals sat in legal review for {n2} days because we started paperwork late.",
        "Our handoff to deal desk added {n} days to every quote over {k}k.",
        "We skipped the close plan on {acct} and found procurement too late.",
    ),
}


def miss_text(rng: random.Random, cause: str) -> str:
    return _fill(rng.choice(_MISS_TEXT[cause]), rng)


_RECOGNITION = (
    "Great discovery work on {acct}",
    "First to {n} meetings this month",
    "Closed {acct} ahead of plan",
    "Helped a teammate with the {acct} demo",
    "Best forecast accuracy last month",
    "Turned around the {acct} objection",
)


def recognition_reason(rng: random.Random) -> str:
    return _fill(rng.choice(_RECOGNITION), rng)


SLOGAN_FORBIDDEN = re.compile(
    r"\d|" + "|".join(WEEKDAYS + MONTHS) + r"|\b(today|tomorrow|send|call|email|book|update|bring)\b"
)
SPECIFIC_MARKER = re.compile(r"\d|" + "|".join(WEEKDAYS))
