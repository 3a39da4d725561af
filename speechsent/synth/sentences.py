"""Conversational English sentences whose sentiment is carried by their words.

Telephone-conversation topics in the style of Switchboard and Fisher (family, weather, jobs, hobbies,
cars, sports, ...); for each, lexicons of activities, things, events, neutral facts and questions.
Sentences come from templates: Positive ones through words such as *love*, *great*, *wonderful*,
*enjoyed*, *happy*; Negative ones through *hate*, *awful*, *terrible*, *angry*, *worried*; Neutral ones
are factual statements and questions ("we moved to texas last year", "what do you do for a living").
The templates, slots, intensifiers and disfluencies combine to well over ten thousand distinct
sentences per sentiment, so that a text classifier has to learn the sentiment words, not memorise
sentences.  Sentiment words appear only in the sentiment lexicons; the topic lexicons are neutral.

Everything is drawn from a caller's :class:`random.Random`, so the output is a pure function of its
state.  Words are lower case, with apostrophes (``don't``, ``i'm``) and hyphenated backchannels
(``uh-huh``, ``um-hum``) as Switchboard's MS-State transcripts write them; disfluencies (``uh``,
``um``, ``you know``, ``i mean``, repetitions) are words of the sentence.

:func:`prosody_for` gives an optional sentiment-dependent prosody shift (Positive: faster, higher,
wider pitch range; Negative: slower, lower, narrower) for speech synthesis.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "SENTIMENTS",
    "TOPICS",
    "ProsodyShift",
    "Sentence",
    "SentenceGenerator",
    "count_templates",
    "prosody_for",
    "sentiment_words",
    "spoken_form",
]

SENTIMENTS: tuple[str, ...] = ("Negative", "Neutral", "Positive")

# --------------------------------------------------------------------------------------
# Topic lexicons (all neutral words)
# --------------------------------------------------------------------------------------
# activities: base-form verb phrases ("go fishing"); things / events: singular noun phrases;
# facts / questions: complete neutral sentences; nouns: for "what kind of ... do you have".
_TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "family": {
        "activities": (
            "visit my parents",
            "spend time with the kids",
            "take the kids to the park",
            "have the whole family over for dinner",
            "call my mother on sundays",
            "go to family reunions",
            "help the kids with their homework",
            "drive up to see my grandparents",
        ),
        "things": (
            "my family",
            "my oldest son",
            "my little sister",
            "our new house",
            "my mother in law",
            "my daughter's school",
            "the family reunion",
            "raising teenagers",
        ),
        "events": (
            "the family reunion",
            "my brother's wedding",
            "thanksgiving dinner",
            "my daughter's graduation",
            "our anniversary",
        ),
        "facts": (
            "we have three kids two boys and a girl",
            "my parents live up in ohio",
            "my sister just had her second baby",
            "we moved to texas last year",
            "my husband's family is from the east coast",
            "our youngest started kindergarten this fall",
            "my brother lives about two hours from here",
            "we get together with my in laws about once a month",
        ),
        "questions": (
            "do you have any kids",
            "how many brothers and sisters do you have",
            "does your family live close by",
            "how old are your children",
            "are your parents still living in the same town",
        ),
        "nouns": ("family", "household"),
    },
    "weather": {
        "activities": (
            "shovel snow in the morning",
            "sit out on the porch in the evening",
            "work outside in the summer",
            "drive in the rain",
            "go out when it's cold",
            "watch the storms come in",
        ),
        "things": (
            "the weather here",
            "this time of year",
            "the spring",
            "the humidity",
            "the winter up north",
            "the rain we've been getting",
            "the heat in august",
            "the wind",
        ),
        "events": ("the big snowstorm", "the ice storm last winter", "the heat wave", "the hurricane"),
        "facts": (
            "it's been raining here for about three days",
            "we got six inches of snow last night",
            "it usually gets up to about ninety degrees in july",
            "the temperature dropped about twenty degrees overnight",
            "they're calling for thunderstorms this afternoon",
            "it doesn't snow much down here",
            "the leaves start turning in october",
        ),
        "questions": (
            "what's the weather like where you are",
            "do you get much snow up there",
            "how hot does it get in the summer",
            "has it been raining out there",
        ),
        "nouns": ("weather", "climate"),
    },
    "jobs": {
        "activities": (
            "go to work early",
            "work from home",
            "drive to the office",
            "work overtime",
            "go to staff meetings",
            "travel for work",
            "deal with customers",
            "work the night shift",
        ),
        "things": (
            "my job",
            "my boss",
            "the commute",
            "the new manager",
            "my company",
            "the office",
            "the pay",
            "my schedule",
        ),
        "events": ("the company picnic", "my job interview", "the training course", "the office party"),
        "facts": (
            "i work for an insurance company downtown",
            "i've been with the same company for about eleven years",
            "my wife is a nurse at the hospital",
            "i'm an engineer at a computer company",
            "i teach fourth grade",
            "we have about two hundred people in our building",
            "i usually get to work around seven thirty",
            "i switched jobs a couple of years ago",
        ),
        "questions": (
            "what do you do for a living",
            "how long have you been there",
            "do you have to drive very far to work",
            "what kind of company do you work for",
            "do you work full time",
        ),
        "nouns": ("job", "work"),
    },
    "hobbies": {
        "activities": (
            "go fishing",
            "work on old furniture",
            "read mystery novels",
            "play the piano",
            "sew quilts",
            "go camping",
            "paint",
            "build model airplanes",
            "do crossword puzzles",
        ),
        "things": (
            "my new sewing machine",
            "the camping trip",
            "my fishing boat",
            "woodworking",
            "my stamp collection",
            "the book club",
            "photography",
        ),
        "events": ("the camping trip", "the craft fair", "the fishing tournament", "the art class"),
        "facts": (
            "i do a lot of woodworking in the garage",
            "my husband collects old coins",
            "i started knitting about five years ago",
            "we go camping up at the lake most weekends",
            "i read about two books a month",
            "my son builds model rockets",
        ),
        "questions": (
            "what do you do in your spare time",
            "do you have any hobbies",
            "how did you get started with that",
            "do you do that very often",
        ),
        "nouns": ("hobbies", "crafts"),
    },
    "cars": {
        "activities": (
            "drive on the highway",
            "work on the car myself",
            "take the car in for service",
            "shop for a new car",
            "drive the pickup",
            "change the oil",
        ),
        "things": (
            "my car",
            "the new minivan",
            "our old station wagon",
            "the truck",
            "the dealership",
            "the gas mileage",
            "that ford",
            "the transmission",
        ),
        "events": ("the road trip", "the test drive", "the trip to the dealer", "buying the car"),
        "facts": (
            "i drive a nineteen eighty seven honda",
            "we bought a used car last spring",
            "it has about ninety thousand miles on it",
            "my wife drives a chevy",
            "we've had it for about six years",
            "it gets around thirty miles to the gallon",
        ),
        "questions": (
            "what kind of car do you drive",
            "did you buy it new or used",
            "how many miles does it have on it",
            "do you do your own repairs",
        ),
        "nouns": ("car", "truck"),
    },
    "sports": {
        "activities": (
            "watch football on sunday",
            "play golf",
            "go to the baseball games",
            "play tennis",
            "coach little league",
            "watch basketball",
            "go bowling",
        ),
        "things": (
            "the cowboys game",
            "the new coach",
            "the team this year",
            "the season",
            "the playoff race",
            "the stadium",
            "the home team",
        ),
        "events": ("the super bowl", "the game last night", "the world series", "the tournament"),
        "facts": (
            "i play softball on tuesday nights",
            "my son plays soccer in a city league",
            "the game starts at seven thirty",
            "we have season tickets for the mavericks",
            "i watch most of the games on television",
            "they play again on saturday",
        ),
        "questions": (
            "do you follow any sports",
            "who's your favorite team",
            "did you see the game last night",
            "do you play any sports yourself",
        ),
        "nouns": ("sports", "teams"),
    },
    "movies": {
        "activities": (
            "go to the movies",
            "rent videos on the weekend",
            "watch the late show",
            "watch old westerns",
            "see a movie on a friday night",
        ),
        "things": (
            "that movie",
            "the new theater",
            "the ending",
            "the sequel",
            "that show",
            "the acting",
            "the soundtrack",
        ),
        "events": ("the movie we saw last week", "the premiere", "the film festival", "the show last night"),
        "facts": (
            "we usually rent a couple of movies on friday",
            "i saw it at the dollar theater",
            "it came out about a month ago",
            "we don't have cable",
            "it's about a family in the depression",
            "the theater is right next to the mall",
        ),
        "questions": (
            "have you seen any good movies lately",
            "what kind of movies do you like",
            "do you go to the theater or rent them",
            "did you see the one with tom hanks",
        ),
        "nouns": ("movies", "shows"),
    },
    "food": {
        "activities": (
            "eat out",
            "cook on the grill",
            "try new restaurants",
            "bake bread",
            "make mexican food",
            "go out for barbecue",
            "cook for a big crowd",
        ),
        "things": (
            "that restaurant",
            "the food there",
            "the service",
            "my mother's cooking",
            "the barbecue place",
            "the new italian place",
            "the cafeteria",
        ),
        "events": ("the dinner party", "the chili cookoff", "our dinner last night", "the potluck"),
        "facts": (
            "we eat out about twice a week",
            "there's a chinese place right down the street",
            "i do most of the cooking at our house",
            "we usually have chicken on sundays",
            "they serve breakfast all day",
            "it's about ten dollars a person",
        ),
        "questions": (
            "what kind of food do you like",
            "do you eat out very often",
            "do you do much cooking",
            "is there a good place to eat near you",
        ),
        "nouns": ("food", "restaurants"),
    },
    "pets": {
        "activities": (
            "walk the dog",
            "take care of the cats",
            "train a new puppy",
            "take the dog to the vet",
            "clean the fish tank",
            "feed the birds",
        ),
        "things": (
            "our dog",
            "the cat",
            "my old golden retriever",
            "the new puppy",
            "our parakeet",
            "the vet",
            "the animal shelter",
        ),
        "events": ("the dog show", "the trip to the vet", "the day we got the puppy", "the adoption day"),
        "facts": (
            "we have two cats and a dog",
            "my sister has a horse out on her farm",
            "we got him from the pound",
            "she's about twelve years old now",
            "he stays out in the back yard during the day",
            "the kids named him buster",
        ),
        "questions": (
            "do you have any pets",
            "what kind of dog is it",
            "how old is he",
            "does he stay inside or outside",
        ),
        "nouns": ("pets", "dog"),
    },
    "travel": {
        "activities": (
            "go to the beach",
            "drive up to the mountains",
            "fly to see my sister",
            "go skiing in colorado",
            "take a cruise",
            "go camping in the summer",
            "travel overseas",
        ),
        "things": (
            "the trip",
            "the hotel",
            "the flight",
            "the beach",
            "our vacation",
            "the tour",
            "the cabin",
        ),
        "events": ("our trip to florida", "the cruise", "our vacation last summer", "the drive out west"),
        "facts": (
            "we went to new mexico last summer",
            "we usually take our vacation in august",
            "we drove the whole way",
            "it's about a twelve hour drive",
            "we stayed with my cousin in denver",
            "we were gone for two weeks",
        ),
        "questions": (
            "where did you go on vacation",
            "do you travel much",
            "have you ever been to california",
            "did you fly or drive",
        ),
        "nouns": ("trips", "vacations"),
    },
    "music": {
        "activities": (
            "listen to country music",
            "go to concerts",
            "sing in the church choir",
            "play the guitar",
            "listen to the radio in the car",
        ),
        "things": (
            "that song",
            "the concert",
            "the new album",
            "the band",
            "the radio station",
            "classical music",
            "the choir",
        ),
        "events": ("the concert last week", "the recital", "the festival", "the show at the fairgrounds"),
        "facts": (
            "i listen to the oldies station on the way to work",
            "my daughter takes piano lessons",
            "i played trumpet in high school",
            "they're playing at the civic center next month",
            "i mostly listen to jazz",
        ),
        "questions": (
            "what kind of music do you listen to",
            "do you play an instrument",
            "have you been to any concerts lately",
        ),
        "nouns": ("music", "bands"),
    },
    "gardening": {
        "activities": (
            "work in the garden",
            "mow the lawn",
            "grow tomatoes",
            "plant flowers in the spring",
            "pull weeds",
            "rake the leaves",
        ),
        "things": (
            "the garden",
            "the yard",
            "the tomato crop",
            "the lawn",
            "the rose garden",
            "the vegetable patch",
            "the soil here",
        ),
        "events": ("the garden show", "the harvest", "planting season", "the spring planting"),
        "facts": (
            "we have a small garden out back",
            "i planted tomatoes and peppers this year",
            "the soil here is mostly clay",
            "we mow about once a week",
            "my wife takes care of the flower beds",
        ),
        "questions": (
            "do you do any gardening",
            "what do you grow",
            "how big is your yard",
            "do you have a vegetable garden",
        ),
        "nouns": ("plants", "vegetables"),
    },
    "money": {
        "activities": (
            "pay the bills",
            "balance the checkbook",
            "save for retirement",
            "use credit cards",
            "do our taxes",
            "shop for groceries",
        ),
        "things": (
            "our budget",
            "the mortgage",
            "the property tax",
            "the bank",
            "the insurance",
            "the credit card bill",
            "the electric bill",
        ),
        "events": ("tax season", "the refinancing", "the raise", "the audit"),
        "facts": (
            "we sit down and do a budget every month",
            "we pay the mortgage on the first",
            "i use one credit card for everything",
            "my husband handles most of the bills",
            "we put a little into savings every paycheck",
        ),
        "questions": (
            "do you keep a budget",
            "how do you handle the bills",
            "do you use credit cards much",
            "who does the taxes at your house",
        ),
        "nouns": ("budget", "accounts"),
    },
    "school": {
        "activities": (
            "go back to school",
            "take night classes",
            "help out at the school",
            "study for exams",
            "go to parent teacher conferences",
        ),
        "things": (
            "the school district",
            "my son's teacher",
            "the public school system",
            "college",
            "the new principal",
            "the math program",
            "the tuition",
        ),
        "events": ("graduation", "the school play", "the science fair", "the first day of school"),
        "facts": (
            "my daughter goes to the public school",
            "i'm taking two classes at the community college",
            "the school is about a mile from our house",
            "they have about thirty kids in a class",
            "he's a junior in high school",
        ),
        "questions": (
            "where do your kids go to school",
            "did you go to college around here",
            "what grade is she in",
            "are the schools good where you live",
        ),
        "nouns": ("schools", "classes"),
    },
    "health": {
        "activities": (
            "go to the gym",
            "jog in the morning",
            "ride my bike",
            "go swimming",
            "walk around the neighborhood",
            "do aerobics",
        ),
        "things": (
            "my knee",
            "the new diet",
            "the gym",
            "my doctor",
            "the hospital",
            "the health plan",
            "my back",
        ),
        "events": ("the surgery", "the checkup", "the marathon", "the physical"),
        "facts": (
            "i go to the gym three times a week",
            "i walk about two miles every morning",
            "my doctor told me to cut back on salt",
            "we joined the y last year",
            "i ride my bike to work when it's nice",
        ),
        "questions": (
            "do you exercise much",
            "what do you do to stay in shape",
            "do you belong to a gym",
            "how far do you run",
        ),
        "nouns": ("exercise", "workouts"),
    },
}

TOPICS: tuple[str, ...] = tuple(_TOPICS)

# --------------------------------------------------------------------------------------
# Sentiment lexicons
# --------------------------------------------------------------------------------------
_INTENS = ("really", "so", "just", "pretty", "very", "absolutely", "really really")
_POS_VERB = (
    "love",
    "really love",
    "just love",
    "really enjoy",
    "enjoy",
    "adore",
    "really like",
    "truly love",
)
_NEG_VERB = (
    "hate",
    "really hate",
    "just hate",
    "can't stand",
    "despise",
    "really dislike",
    "dread",
    "detest",
)
_POS_ADJ = (
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
_POS_NP = ("a lot of fun", "the best", "a real treat", "a blessing", "a joy", "a great deal", "so much fun")
_NEG_ADJ = (
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
_NEG_NP = (
    "a nightmare",
    "a real pain",
    "the worst",
    "a disaster",
    "a mess",
    "a waste of money",
    "a waste of time",
)
_POS_ATTR = ("wonderful", "great", "fantastic", "lovely", "really good", "terrific", "marvelous", "fabulous")
_NEG_ATTR = ("terrible", "horrible", "awful", "miserable", "rough", "lousy", "really bad", "dreadful")
_POS_FEEL = ("happy", "glad", "excited", "thrilled", "pleased", "proud", "grateful", "thankful", "relieved")
_NEG_FEEL = (
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
_POS_EXCL = (
    "oh that's great",
    "that's wonderful",
    "wow that's fantastic",
    "that sounds like fun",
    "oh i love that",
    "how nice",
    "oh that's so nice",
    "that's terrific",
)
_NEG_EXCL = (
    "oh that's terrible",
    "that's awful",
    "oh no that's too bad",
    "that's so sad",
    "oh how awful",
    "that's horrible",
    "gosh that's terrible",
    "oh that's a shame",
)
_WE = ("i", "we", "my wife and i", "my husband and i", "the kids", "my friends and i")
_VINTENS = ("really", "just", "totally", "truly", "always")

_POSITIVE_TEMPLATES: tuple[str, ...] = (
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
_NEGATIVE_TEMPLATES: tuple[str, ...] = (
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
_NEUTRAL_TEMPLATES: tuple[str, ...] = (
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
_FREQ = ("usually", "sometimes", "mostly", "occasionally", "generally", "still", "normally")
_WHEN = (
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
_TIME_AGO = (
    "last year",
    "a couple of years ago",
    "about five years ago",
    "back in the seventies",
    "in nineteen eighty six",
    "last spring",
    "when i was a kid",
    "a few months ago",
)
_PLACES = (
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
_RELATIVES = (
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

_BACKCHANNELS: dict[str, tuple[str, ...]] = {
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
_PREFIXES = ("well", "so", "oh", "yeah", "you know", "i mean", "and", "but", "like", "see")
_SUFFIXES = ("you know", "i guess", "i think", "or something", "and stuff", "anyway")
_FILLERS = ("uh", "um", "uh", "um", "you know", "i mean")

_SENTIMENT_WORDS: frozenset[str] = frozenset(
    word
    for group in (
        _POS_VERB,
        _NEG_VERB,
        _POS_ADJ,
        _NEG_ADJ,
        _POS_NP,
        _NEG_NP,
        _POS_ATTR,
        _NEG_ATTR,
        _POS_FEEL,
        _NEG_FEEL,
        _POS_EXCL,
        _NEG_EXCL,
        _BACKCHANNELS["Positive"],
        _BACKCHANNELS["Negative"],
        ("enjoyed", "hated", "best", "worst", "sick", "tired", "recommend"),
    )
    for phrase in group
    for word in phrase.split()
)

#: How the transcribed forms of some words are passed to eSpeak (hyphenated backchannels, fillers).
_SPOKEN: dict[str, str] = {
    "uh-huh": "uh huh",
    "um-hum": "mm hmm",
    "huh-uh": "huh uh",
    "uh": "uh",
    "um": "umm",
    "huh": "huh",
    "mhm": "mm hmm",
}


def spoken_form(word: str) -> str:
    """The text eSpeak is given for one transcript word."""
    return _SPOKEN.get(word, word)


def sentiment_words() -> frozenset[str]:
    """Every word of the sentiment lexicons (positive and negative words, exclamations, backchannels)."""
    return _SENTIMENT_WORDS


def _gerund(verb: str) -> str:
    double = {
        "swim",
        "shop",
        "run",
        "get",
        "sit",
        "jog",
        "plan",
        "stop",
        "put",
        "dig",
        "set",
        "win",
        "cut",
        "chat",
    }
    if verb in double:
        return verb + verb[-1] + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and verb != "be":
        return verb[:-1] + "ing"
    return verb + "ing"


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a short turn) with its sentiment, as lower-case transcript words."""

    words: tuple[str, ...]
    sentiment: str
    topic: str
    kind: str = "statement"  # statement | question | backchannel

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def spoken(self) -> str:
        """The text to synthesize (hyphenated backchannels and fillers respelled for eSpeak)."""
        return " ".join(spoken_form(w) for w in self.words)


@dataclass(frozen=True)
class ProsodyShift:
    """Multiplicative rate and additive pitch / pitch-range change (eSpeak's 0..100 scale)."""

    rate_factor: float = 1.0
    pitch_delta: float = 0.0
    range_delta: float = 0.0


_PROSODY: dict[str, ProsodyShift] = {
    "Positive": ProsodyShift(1.10, 8.0, 18.0),
    "Neutral": ProsodyShift(1.0, 0.0, 0.0),
    "Negative": ProsodyShift(0.88, -7.0, -15.0),
}


def prosody_for(sentiment: str, strength: float = 1.0) -> ProsodyShift:
    """The prosody shift for ``sentiment``, scaled by ``strength`` (0 = none)."""
    base = _PROSODY[sentiment]
    return ProsodyShift(
        1.0 + (base.rate_factor - 1.0) * strength, base.pitch_delta * strength, base.range_delta * strength
    )


def count_templates() -> dict[str, int]:
    """Number of templates per sentiment (for documentation and tests)."""
    return {
        "Negative": len(_NEGATIVE_TEMPLATES),
        "Neutral": len(_NEUTRAL_TEMPLATES),
        "Positive": len(_POSITIVE_TEMPLATES),
    }


class SentenceGenerator:
    """Draws sentences from ``rng``; ``disfluency_rate`` is the probability of disfluencies in one."""

    def __init__(self, rng: random.Random, disfluency_rate: float = 0.3) -> None:
        if not 0.0 <= disfluency_rate <= 1.0:
            raise ValueError("disfluency_rate must be in [0, 1]")
        self.rng = rng
        self.disfluency_rate = disfluency_rate

    # ----------------------------------------------------------------------------------
    def topic(self) -> str:
        return self.rng.choice(TOPICS)

    def sentiment(self, weights: tuple[float, float, float] = (0.25, 0.45, 0.30)) -> str:
        """A sentiment drawn with ``weights`` for (Negative, Neutral, Positive)."""
        return self.rng.choices(SENTIMENTS, weights=weights)[0]

    def _fill(self, template: str, topic: str) -> str:
        rng = self.rng
        lex = _TOPICS[topic]
        slots = {
            "activity": lambda: rng.choice(lex["activities"]),
            "thing": lambda: rng.choice(lex["things"]),
            "event": lambda: rng.choice(lex["events"]),
            "fact": lambda: rng.choice(lex["facts"]),
            "question": lambda: rng.choice(lex["questions"]),
            "noun": lambda: rng.choice(lex["nouns"]),
            "intens": lambda: rng.choice(_INTENS),
            "vintens": lambda: rng.choice(_VINTENS),
            "pos_verb": lambda: rng.choice(_POS_VERB),
            "neg_verb": lambda: rng.choice(_NEG_VERB),
            "pos_adj": lambda: rng.choice(_POS_ADJ),
            "neg_adj": lambda: rng.choice(_NEG_ADJ),
            "pos_np": lambda: rng.choice(_POS_NP),
            "neg_np": lambda: rng.choice(_NEG_NP),
            "pos_attr": lambda: rng.choice(_POS_ATTR),
            "neg_attr": lambda: rng.choice(_NEG_ATTR),
            "pos_feel": lambda: rng.choice(_POS_FEEL),
            "neg_feel": lambda: rng.choice(_NEG_FEEL),
            "pos_excl": lambda: rng.choice(_POS_EXCL),
            "neg_excl": lambda: rng.choice(_NEG_EXCL),
            "i": lambda: rng.choice(_WE),
            "freq": lambda: rng.choice(_FREQ),
            "when": lambda: rng.choice(_WHEN),
            "time_ago": lambda: rng.choice(_TIME_AGO),
            "place": lambda: rng.choice(_PLACES),
            "relative": lambda: rng.choice(_RELATIVES),
        }
        out: list[str] = []
        rest = template
        while "{" in rest:
            head, _, tail = rest.partition("{")
            name, _, rest = tail.partition("}")
            out.append(head)
            out.append(slots[name]())
        out.append(rest)
        return "".join(out)

    def _conjugate(self, words: list[str]) -> list[str]:
        # Templates say "{pos_verb} to {activity}"; verbs that take a gerund ("enjoy", "dread",
        # "can't stand", "despise", "dislike", "adore") get one instead of "to" + base form.
        out: list[str] = []
        i = 0
        gerund_verbs = {"enjoy", "adore", "despise", "dislike", "stand", "dread", "detest"}
        while i < len(words):
            w = words[i]
            if w == "to" and out and out[-1] in gerund_verbs and i + 1 < len(words):
                out.append(_gerund(words[i + 1]))
                i += 2
                continue
            out.append(w)
            i += 1
        return out

    @staticmethod
    def _articles(words: list[str]) -> list[str]:
        # "a awful time" -> "an awful time"
        return [
            "an" if w == "a" and i + 1 < len(words) and words[i + 1][0] in "aeio" else w
            for i, w in enumerate(words)
        ]

    def _disfluent(self, words: list[str]) -> list[str]:
        rng = self.rng
        if rng.random() >= self.disfluency_rate or not words:
            return words
        words = list(words)
        kind = rng.random()
        if kind < 0.35:
            pos = rng.randrange(0, len(words))
            words[pos:pos] = rng.choice(_FILLERS).split()
        elif kind < 0.6:
            words[0:0] = rng.choice(_PREFIXES).split()
        elif kind < 0.75:
            words.extend(rng.choice(_SUFFIXES).split())
        elif kind < 0.9:
            pos = rng.randrange(0, min(3, len(words)))
            words.insert(pos, words[pos])  # repetition: "i i really", "the the"
        else:
            pos = rng.randrange(0, len(words))
            words[pos:pos] = rng.choice(_FILLERS).split()
            words[0:0] = rng.choice(_PREFIXES).split()
        return words

    def sentence(self, sentiment: str, topic: str | None = None) -> Sentence:
        """One sentence of ``sentiment`` about ``topic`` (random when None)."""
        rng = self.rng
        topic = topic if topic is not None else self.topic()
        if sentiment == "Positive":
            template = rng.choice(_POSITIVE_TEMPLATES)
        elif sentiment == "Negative":
            template = rng.choice(_NEGATIVE_TEMPLATES)
        elif sentiment == "Neutral":
            template = rng.choice(_NEUTRAL_TEMPLATES)
        else:
            raise ValueError(f"unknown sentiment {sentiment!r}")
        words = self._articles(self._conjugate(self._fill(template, topic).split()))
        question = template in (
            "{question}",
            "do you {activity} very often",
            "how often do you {activity}",
        ) or (
            words[0] in ("what", "where", "how", "do", "have", "did", "does", "are", "is")
            and sentiment == "Neutral"
        )
        if template == "so what about you" or template == "where are you calling from":
            question = True
        words = self._disfluent(words)
        return Sentence(tuple(words), sentiment, topic, "question" if question else "statement")

    def backchannel(self, sentiment: str = "Neutral") -> Sentence:
        """A short listener response (``uh-huh``, ``oh that's great``, ``oh no``)."""
        words = self.rng.choice(_BACKCHANNELS[sentiment]).split()
        return Sentence(tuple(words), sentiment, "", "backchannel")

    def turn(self, sentiment: str, topic: str | None = None) -> Sentence:
        """A speaker turn: one sentence, sometimes two of the same sentiment (or a neutral lead-in)."""
        rng = self.rng
        first = self.sentence(sentiment, topic)
        if rng.random() < 0.25:
            second_sentiment = sentiment if rng.random() < 0.6 else "Neutral"
            second = self.sentence(second_sentiment, first.topic)
            if second_sentiment == "Neutral" and second.kind == "question":
                second = self.sentence(sentiment, first.topic)
            words = first.words + second.words if rng.random() < 0.5 else second.words + first.words
            return Sentence(words, sentiment, first.topic, "statement")
        return first
