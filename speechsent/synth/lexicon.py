"""The words of the synthetic sentences other than the topics': data only.

The sentiment lexicons (verbs, adjectives, noun phrases, feelings, exclamations; Positive and Negative), the
sentence templates of each sentiment (their ``{slots}`` are filled by
:class:`speechsent.synth.sentences.SentenceGenerator` from these tuples and the topic lexicons of
:mod:`speechsent.synth.topics`), the neutral slots (frequency, time, place, relatives), the listeners'
backchannels and the disfluencies. :data:`SENTIMENT_WORDS` is every word of the sentiment lexicons (the topic
lexicons have none). The order of every tuple is part of the corpus: the generator draws by position.
"""

from __future__ import annotations

INTENS = ("really", "so", "just", "pretty", "very", "absolutely", "really really")
POS_VERB = (
    "love",
    "really love",
    "just love",
    "really enjoy",
    "enjoy",
    "adore",
    "really like",
    "truly love",
)
NEG_VERB = (
    "hate",
    "really hate",
    "just hate",
    "can't stand",
    "despise",
    "really dislike",
    "dread",
    "detest",
)
POS_ADJ = (
    "great",
    "wonderful",
    "nice",
    "good",
    "fun",
    "beautiful",
    "exciting",
    "relaxing",
    "rewarding",
    "amazing",
    "fantastic",
    "terrific",
    "lovely",
    "enjoyable",
)
POS_NP = ("a lot of fun", "the best", "a real treat", "a blessing", "a joy", "a great deal", "so much fun")
NEG_ADJ = (
    "awful",
    "terrible",
    "horrible",
    "bad",
    "annoying",
    "frustrating",
    "depressing",
    "stressful",
    "miserable",
    "boring",
    "ridiculous",
    "disgusting",
    "painful",
    "lousy",
)
NEG_NP = (
    "a nightmare",
    "a real pain",
    "the worst",
    "a disaster",
    "a mess",
    "a waste of money",
    "a waste of time",
)
POS_ATTR = ("wonderful", "great", "fantastic", "lovely", "really good", "terrific", "marvelous", "fabulous")
NEG_ATTR = ("terrible", "horrible", "awful", "miserable", "rough", "lousy", "really bad", "dreadful")
POS_FEEL = ("happy", "glad", "excited", "thrilled", "pleased", "proud", "grateful", "thankful", "relieved")
NEG_FEEL = (
    "worried",
    "upset",
    "angry",
    "sad",
    "scared",
    "annoyed",
    "disappointed",
    "frustrated",
    "mad",
    "nervous",
)
POS_EXCL = (
    "oh that's great",
    "that's wonderful",
    "wow that's fantastic",
    "that sounds like fun",
    "oh i love that",
    "how nice",
    "oh that's so nice",
    "that's terrific",
)
NEG_EXCL = (
    "oh that's terrible",
    "that's awful",
    "oh no that's too bad",
    "that's so sad",
    "oh how awful",
    "that's horrible",
    "gosh that's terrible",
    "oh that's a shame",
)
WE = ("i", "we", "my wife and i", "my husband and i", "the kids", "my friends and i")
VINTENS = ("really", "just", "totally", "truly", "always")

POSITIVE_TEMPLATES: tuple[str, ...] = (
    "{i} {pos_verb} to {activity}",
    "i {pos_verb} {thing}",
    "{thing} is {intens} {pos_adj}",
    "{thing} is {pos_np}",
    "we had a {pos_attr} time at {event}",
    "i'm {intens} {pos_feel} about {thing}",
    "{event} was {intens} {pos_adj}",
    "i {vintens} enjoyed {event}",
    "it makes me {intens} {pos_feel} to {activity}",
    "{pos_excl}",
    "{pos_excl} i {pos_verb} to {activity}",
    "i'd recommend {thing} to anybody it's {pos_adj}",
    "{thing} has been {intens} {pos_adj} for us",
    "that's the best thing about {thing}",
    "i was {intens} {pos_feel} with {event}",
    "we {vintens} enjoy it when we {activity}",
    "honestly {thing} is {pos_adj} and i {pos_verb} it",
    "i have a {pos_attr} time whenever i {activity}",
)
NEGATIVE_TEMPLATES: tuple[str, ...] = (
    "{i} {neg_verb} to {activity}",
    "i {neg_verb} {thing}",
    "{thing} is {intens} {neg_adj}",
    "{thing} is {neg_np}",
    "we had a {neg_attr} time at {event}",
    "i'm {intens} {neg_feel} about {thing}",
    "{event} was {intens} {neg_adj}",
    "i {vintens} hated {event}",
    "it makes me {intens} {neg_feel} when i have to {activity}",
    "{neg_excl}",
    "{neg_excl} i {neg_verb} to {activity}",
    "i'm sick and tired of {thing}",
    "{thing} has been {intens} {neg_adj} lately",
    "that's the worst thing about {thing}",
    "i was {intens} {neg_feel} with {event}",
    "i'm {intens} {neg_feel} every time i {activity}",
    "honestly {thing} is {neg_adj} and i {neg_verb} it",
    "i have a {neg_attr} time whenever i {activity}",
)
NEUTRAL_TEMPLATES: tuple[str, ...] = (
    "{fact}",
    "{fact}",
    "{question}",
    "{i} {freq} {activity} with my {relative}",
    "my {relative} lives in {place}",
    "my {relative} and i {activity} {when}",
    "the last time i was in {place} was {time_ago}",
    "how long have you lived in {place}",
    "do you {activity} {when}",
    "i was going to {activity} {when}",
    "we're supposed to {activity} {when}",
    "my {relative} asked me about {thing} {time_ago}",
    "we were just talking about {thing}",
    "i read something about {thing} {time_ago}",
    "i {freq} {activity} {when}",
    "do you {activity} very often",
    "how often do you {activity}",
    "what kind of {noun} do you have",
    "we used to {activity} {when}",
    "i think {thing} is about the same as it was {time_ago}",
    "my {relative} used to {activity}",
    "we talked about {thing} {time_ago}",
    "i'm calling from {place}",
    "where are you calling from",
    "we moved to {place} {time_ago}",
    "{i} usually {activity} {when}",
    "have you ever had to {activity}",
    "i guess it depends on {thing}",
    "so what about you",
)
FREQ = ("usually", "sometimes", "mostly", "occasionally", "generally", "still", "normally")
WHEN = (
    "on the weekends",
    "in the summer",
    "on tuesdays",
    "after work",
    "in the evenings",
    "about once a month",
    "every other week",
    "in the morning",
    "when i get a chance",
    "during the winter",
)
TIME_AGO = (
    "last year",
    "a couple of years ago",
    "about five years ago",
    "back in the seventies",
    "in nineteen eighty six",
    "last spring",
    "when i was a kid",
    "a few months ago",
)
PLACES = (
    "texas",
    "dallas",
    "north carolina",
    "ohio",
    "california",
    "raleigh",
    "pittsburgh",
    "new jersey",
    "atlanta",
    "colorado",
    "virginia",
    "boston",
    "utah",
    "indiana",
)
RELATIVES = (
    "brother",
    "sister",
    "father",
    "mother",
    "uncle",
    "cousin",
    "neighbor",
    "husband",
    "wife",
    "son",
)

BACKCHANNELS: dict[str, tuple[str, ...]] = {
    "Neutral": (
        "uh-huh",
        "yeah",
        "right",
        "um-hum",
        "oh really",
        "okay",
        "sure",
        "oh yeah",
        "i see",
        "yes",
        "right right",
        "uh-huh yeah",
        "oh okay",
        "huh",
    ),
    "Positive": ("oh that's great", "wow", "oh neat", "that's nice", "oh wonderful", "good for you"),
    "Negative": ("oh no", "oh that's too bad", "gosh", "that's terrible", "oh dear", "how awful"),
}
PREFIXES = ("well", "so", "oh", "yeah", "you know", "i mean", "and", "but", "like", "see")
SUFFIXES = ("you know", "i guess", "i think", "or something", "and stuff", "anyway")
FILLERS = ("uh", "um", "uh", "um", "you know", "i mean")

SENTIMENT_WORDS: frozenset[str] = frozenset(
    word
    for group in (
        POS_VERB,
        NEG_VERB,
        POS_ADJ,
        NEG_ADJ,
        POS_NP,
        NEG_NP,
        POS_ATTR,
        NEG_ATTR,
        POS_FEEL,
        NEG_FEEL,
        POS_EXCL,
        NEG_EXCL,
        BACKCHANNELS["Positive"],
        BACKCHANNELS["Negative"],
        ("enjoyed", "hated", "best", "worst", "sick", "tired", "recommend"),
    )
    for phrase in group
    for word in phrase.split()
)
