"""Children's stories written by a seeded program: the training text of the bundled model.

Every story has a cast (children with names, a named pet, animals, a parent), a key object, a place
and one of twelve plots. The stories are made so that a small model must *read back* to predict well:

* a character's name is introduced early ("a girl named Lily") and used again later, and the names
  come from a list of over two hundred, so the model cannot memorise them: it has to copy the name
  from earlier in the text (this is what an attention head learns to do);
* pronouns agree with their character (he, she, it; him, her; his, her, its);
* the key object of the story ("a red kite") comes back near the end;
* some plots repeat a span word for word: a shopping list read back at the shop, spelling words
  said back, a song sung twice, the animals of a walk told again at home.

What the animals do, what they eat and what can be carried off or blown away come from the
constraint tables of :mod:`gptviz.story_world`, so no fox flaps its wings. For training,
:func:`training_stream` also puts a span of random story tokens read twice (:func:`repeated_span`)
after every eighth story: copying *any* token sequence is what builds an induction circuit.

``generate_stories(n, seed)`` returns :class:`Story` objects; the same seed gives the same text.
Each story knows its cast and every mention of a character (:class:`Mention`, with character
offsets), so :func:`name_positions` can find the places where the next token is the name of a
character introduced earlier. Every name is one GPT-2 token with its leading space (" Lily").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .story_world import (ANIMAL_TRAITS, ANIMALS, GROCERIES, HURTS, OUTDOORS, PLACES, TOYS, WORDS, animals_with, doings_for,
                          foods_for, toys_with)
from .tokenizer import EOT, EOT_ID

TRAIN_SEED, VAL_SEED = 0, 1  # the training and validation stories come from different seeds

# ---- word banks ---------------------------------------------------------------------------
GIRLS = (
    "Lily Anna Emma Mia Sophie Lucy Amy Grace Chloe Zoe Sara Sarah Kate Jane Mary Rose Ruby Molly "
    "Olivia Emily Hannah Julia Laura Nina Maya Leah Alice Ellie Jenny Kim Lisa Susan Sally Tina "
    "Amber Holly Megan Rachel Jessica Ashley Katie Claire Fiona Helen Karen Linda Lucia Nora Paula "
    "Rita Tara Vera Wendy Abby Bella Diana Eva Fay Gina Heidi Ivy Lena Pam Rosa Sue Tess Violet "
    "Willow Iris Hazel Luna Stella Clara Jade Elsa Annie Betty Carol Eve Gloria Kelly Lara "
    "Maria Nancy Penny Sandy Ann Beth Kay Liz Meg Anne Dana Erin Joan Lynn Maggie Polly"
).split()
BOYS = (
    "Tom Ben Max Sam Jack Leo Tim Joe Bob Dan Jim Jake Luke Mark Noah Adam Alex Andy Bill Carl "
    "Chris Dave David Eric Evan Finn Frank Fred George Greg Harry Henry Ian Ivan Jay John Josh "
    "Kevin Kyle Lewis Liam Matt Mike Nick Oscar Owen Paul Pete Peter Ray Rick Rob Ryan Scott Sean "
    "Steve Ted Theo Toby Tony Victor Zack Oliver James Charlie Daniel Ethan Hugo Jason Justin "
    "Kenny Larry Lucas Martin Nathan Neil Patrick Roger Ross Simon Terry Troy Walter Wayne Billy "
    "Bobby Danny Eddie Jimmy Johnny Louis Milo Otto Roy Seth Vince Brad Brian Colin Dean Derek "
    "Doug Glen Jeff Joel Karl Kurt Lance Marco Miles Norman Phil Ralph Rudy Stan Wade"
).split()
PET_NAMES = "Spot Buddy Coco Lucky Rex Pepper Sunny Shadow Ginger Patch Rusty Cookie Daisy Honey Tiger Dot".split()
PETS = ("dog", "cat", "puppy", "kitten", "bunny", "hamster", "parrot", "turtle", "goldfish", "pony")
COLORS = ("red", "blue", "green", "yellow", "pink", "purple", "orange", "white", "black", "brown", "gold", "silver",
          "gray", "golden", "striped", "spotted", "turquoise", "violet", "crimson", "pale blue", "dark green", "bright red")
LOOKS = ("big", "little", "shiny", "soft", "old", "new", "tiny", "round", "pretty", "funny", "fluffy", "sparkly",
         "fuzzy", "bright", "heavy", "smooth", "bumpy", "colorful", "special", "magic", "lovely", "wooden", "giant", "squeaky",
         "glittery", "wobbly", "polished", "painted", "handmade", "cozy", "precious", "battered")
PET_LOOKS = ("big", "little", "soft", "tiny", "funny", "fluffy", "fuzzy", "lovely", "sleepy", "playful", "clever",
             "cuddly", "shaggy", "curly", "gentle", "happy", "lively", "young", "old", "plump", "speedy")
HIDING = (
    "under a bush", "behind a tree", "in the tall grass", "under a bench", "next to a big rock",
    "in a pile of leaves", "under the slide", "behind the fence", "in a hole", "near the water",
    "on a high branch", "inside an old box", "under a table", "in the mud", "by the gate",
    "behind a hedge", "under a wheelbarrow", "among the flowers", "beside the shed", "under a pile of sticks",
)
FOODS = (
    "apple", "cookie", "sandwich", "banana", "carrot", "cake", "pie", "muffin", "orange", "pear",
    "cupcake", "biscuit", "pancake", "peach", "plum", "lemon", "pretzel", "cracker", "donut", "egg",
    "grape", "cherry", "strawberry", "melon", "mango", "pizza", "waffle", "bagel", "potato", "tomato",
    "cucumber", "popcorn ball", "nut", "corn cob", "cheese sandwich", "rice cake", "tangerine", "apricot",
    "blueberry muffin", "cinnamon roll", "jam sandwich", "bowl of soup", "slice of bread", "fig", "kiwi",
    "granola bar", "bowl of rice", "boiled egg", "cheese stick", "honey cake", "fruit salad",
)
ACTIVITIES = (
    "play with blocks", "draw pictures", "sing songs", "run in the sun", "read books", "climb trees",
    "jump in puddles", "dance", "swim", "build sand castles", "pick flowers", "look at the stars",
    "bake cookies", "paint", "play hide and seek", "splash in the water", "play catch",
    "ride a bike", "fly kites", "collect rocks", "tell jokes", "play the drum", "skip and hop",
    "watch the clouds", "make mud pies", "count the birds", "play tag", "blow bubbles",
    "play soccer", "swing on the swings", "roll down the hill", "feed the ducks", "plant seeds",
    "make paper planes", "play dress up", "sail toy boats", "look for bugs", "dig in the sand",
    "play the piano", "ride a scooter", "build a fort", "play with puppets", "go fishing", "whistle",
    "make necklaces", "hunt for shells", "chase the wind", "learn new words", "help in the garden",
    "play chess", "do puzzles", "knit scarves", "juggle balls", "stack cups", "do cartwheels",
    "sing in the bath", "write letters", "play marbles", "ride the seesaw", "make snow angels",
    "hunt for treasure", "visit the library", "fold paper animals", "play the violin", "whistle tunes",
)
FEARS = (
    ("the dark", "the room was dark", "turned on a little light"),
    ("the big slide", "the slide was very tall", "went down the slide"),
    ("the deep water", "the water was deep", "jumped into the water"),
    ("thunder", "the thunder was loud", "counted to ten"),
    ("the tall tree", "the tree was very tall", "climbed up the tree"),
    ("the big dog next door", "the dog barked", "gave the dog a treat"),
    ("the first day of school", "the school was big", "walked into the class"),
    ("the dentist", "the chair was big", "opened wide"),
    ("the big waves", "the waves were big", "walked into the sea"),
    ("the noisy train", "the train was loud", "got on the train"),
    ("the high swing", "the swing went very high", "swung up high"),
    ("the spider in the corner", "the spider was big", "said hello to the spider"),
    ("the bees in the garden", "the bees were buzzing", "walked past the bees"),
    ("riding a bike", "the bike was wobbly", "rode the bike all the way down the street"),
    ("the school play", "the stage was big", "sang a song on the stage"),
)
MAKES = (
    ("cake", "flour, eggs and sugar", "put it in the oven"),
    ("card", "paper, glue and crayons", "drew a big heart on it"),
    ("kite", "sticks, paper and string", "tied the string"),
    ("sand castle", "a bucket, a shovel and wet sand", "made four tall towers"),
    ("snowman", "snow, two stones and a carrot", "put on a hat"),
    ("birdhouse", "wood, nails and paint", "painted it blue"),
    ("necklace", "beads and a long string", "put on the last bead"),
    ("hat", "paper, tape and feathers", "added a big feather"),
    ("pie", "apples, butter and flour", "cut the apples"),
    ("puppet", "a sock, buttons and yarn", "sewed on the eyes"),
    ("paper boat", "paper and crayons", "folded the paper"),
    ("painting", "paint, brushes and paper", "painted a big sun"),
    ("crown", "gold paper and glitter", "cut out the points"),
    ("soup", "carrots, beans and water", "stirred the pot"),
    ("bracelet", "beads and string", "tied a knot"),
    ("flower pot", "a pot, soil and seeds", "planted the seeds"),
    ("picture book", "paper, pencils and a ribbon", "drew a story on each page"),
)
RELATIVES = ("Grandma", "Grandpa", "Mom", "Dad", "Aunt May", "Uncle Joe")
HAPPY = ("happy", "glad", "excited", "proud", "very happy", "full of joy", "thankful", "cheerful")
SAD = ("sad", "upset", "worried", "very sad", "scared", "lonely", "grumpy", "unhappy", "nervous")
WEATHER = ("sunny", "warm", "bright", "windy", "cool", "quiet", "cold", "rainy", "snowy", "cloudy",
           "foggy", "stormy", "hot", "breezy", "chilly", "lovely")
SAID = ("said", "said", "said", "shouted", "whispered", "cried")
WHEN = ("One day", "One morning", "One afternoon", "One sunny day", "One evening", "One Saturday")
THEN = ("Then", "Soon", "After that", "Later", "Next")
SUDDENLY = ("Suddenly", "All of a sudden", "Just then", "Then")
ENDINGS_FRIENDS = (
    "From that day on, {a} and {b} were best friends.",
    "{a} and {b} played together until the sun went down.",
    "After that day, {a} and {b} played together every day.",
    "{a} and {b} smiled. It was the best day ever.",
)


def article(word: str) -> str:
    """``a`` or ``an`` before a word, by its first letter."""
    return "an" if word[0] in "aeiou" else "a"


# ---- characters and mentions ----------------------------------------------------------------
PRONOUN_CHANCE = 0.15
"""How often a character who was just mentioned is called by a pronoun rather than by name.

Kept low, as in stories for young children, who hear the name again and again. At 0.35, a
sentence start where the story may go on with "She" or with the name was a close call, most of all
with two girls (or two boys) in the cast, where one "She" stands for both: the bundled model's top
guess there was often the pronoun or another opening word, and its name recall stayed at 90.5%."""

_PRONOUNS = {"she": ("she", "her", "her"), "he": ("he", "him", "his"), "it": ("it", "it", "its")}


@dataclass(frozen=True)
class Character:
    """One member of a story's cast. ``kind``: girl, boy, a pet or animal word, or "parent".
    ``gender``: "she", "he" or "it". ``named``: the name was invented for this story (children and
    pets), as opposed to a title such as "Mom"."""

    name: str
    kind: str
    gender: str
    named: bool = True

    def pronoun(self, form: str) -> str:
        """``form``: "subj" (she), "obj" (her), "poss" (her)."""
        return _PRONOUNS[self.gender][("subj", "obj", "poss").index(form)]


@dataclass(frozen=True)
class Mention:
    """``story.text[start:end]`` refers to ``story.characters[who]`` as ``form``:
    "name", "subj", "obj" or "poss" (a name followed by 's counts as "name")."""

    start: int
    end: int
    who: int
    form: str


@dataclass
class Story:
    """One generated story with what it is about."""

    text: str
    plot: str
    characters: list[Character]
    objects: list[str]  # the key object (e.g. "kite"), which comes back later in the story
    mentions: list[Mention] = field(default_factory=list)

    def name_ids(self, tokenizer) -> set[int]:
        """GPT-2 ids of the invented names of this story's cast (each one token, e.g. " Lily")."""
        return {tokenizer.encode(" " + c.name)[0] for c in self.characters if c.named}


# ---- the writer -----------------------------------------------------------------------------
_MARK = "\x00"


class _Ref:
    """A character inside a sentence template. ``{h}`` is the name; ``{h.He}`` / ``{h.he}`` /
    ``{h.him}`` / ``{h.his}`` / ``{h.His}`` become the name (``Lily's`` for possessives) or a pronoun,
    a pronoun only when this character was the last one mentioned; ``{h.p_he}`` / ``{h.p_him}`` /
    ``{h.p_his}`` are always the pronoun (for a second mention inside one sentence)."""

    def __init__(self, writer: "_Writer", who: int):
        self.w, self.who = writer, who

    def __format__(self, spec: str) -> str:
        return self.w.mark(self.who, "name", "name", False)

    def _either(self, form: str, cap: bool = False) -> str:
        pronoun = self.w.last == self.who and self.w.chance(PRONOUN_CHANCE)
        return self.w.mark(self.who, form, form if pronoun else "name", cap)

    He = property(lambda self: self._either("subj", True))
    he = property(lambda self: self._either("subj"))
    him = property(lambda self: self._either("obj"))
    his = property(lambda self: self._either("poss"))
    His = property(lambda self: self._either("poss", True))
    p_he = property(lambda self: self.w.mark(self.who, "subj", "subj", False))
    P_he = property(lambda self: self.w.mark(self.who, "subj", "subj", True))
    p_him = property(lambda self: self.w.mark(self.who, "obj", "obj", False))
    p_his = property(lambda self: self.w.mark(self.who, "poss", "poss", False))


class _Writer:
    """Collects sentences from templates; resolves characters to names or pronouns at the end,
    recording where each mention is."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.cast: list[Character] = []
        self.sentences: list[str] = []
        self.ctx: dict = {}  # template fields: plain words and _Ref characters
        self.last: int | None = None  # index of the character mentioned last

    def pick(self, options):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def join(self, key: str, c: Character) -> Character:
        """Add a character to the cast; templates then refer to it as ``{key}``."""
        self.cast.append(c)
        self.ctx[key] = _Ref(self, len(self.cast) - 1)
        return c

    def child(self, key: str, gender: str | None = None) -> Character:
        gender = gender or self.pick(("she", "he"))
        taken = {c.name for c in self.cast}
        names = [n for n in (GIRLS if gender == "she" else BOYS) if n not in taken]
        return self.join(key, Character(self.pick(names), "girl" if gender == "she" else "boy", gender))

    def say(self, *options: str, p: float = 1.0) -> None:
        """Add one sentence (or several), picked among ``options``, with probability ``p``."""
        if p >= 1.0 or self.chance(p):
            self.sentences.append(self.pick(options).format(**self.ctx))

    def mark(self, who: int, form: str, use: str, cap: bool) -> str:
        self.last = who
        return f"{_MARK}{who}|{form}|{use}|{int(cap)}{_MARK}"

    def story(self, plot: str, objects: list[str]) -> Story:
        text, mentions, pos = [], [], 0
        for k, chunk in enumerate(" ".join(self.sentences).split(_MARK)):
            if k % 2:  # a character placeholder
                who, form, use, cap = chunk.split("|")
                c = self.cast[int(who)]
                word = c.name if use == "name" else c.pronoun(use)
                word = word[0].upper() + word[1:] if cap == "1" else word
                mentions.append(Mention(pos, pos + len(word), int(who), use))
                if form == "poss" and use == "name":
                    word += "'s"
                chunk = word
            text.append(chunk)
            pos += len(chunk)
        return Story("".join(text), plot, list(self.cast), objects, mentions)


# ---- plots ----------------------------------------------------------------------------------
def _opening(w: _Writer, h: Character) -> None:
    w.ctx.update(adj=w.pick(("little", "kind", "happy", "curious", "brave", "shy", "clever", "sweet",
                             "funny", "busy", "small", "cheerful", "gentle", "smart", "playful",
                             "friendly", "quiet", "helpful", "polite", "careful", "lively")),
                 kind=h.kind, home=w.pick(("a small town", "a big city", "a little house", "a village", "the woods", "a blue house")))
    w.say("Once upon a time, there was a {adj} {kind} named {h}.",
          "Once upon a time, in {home}, there lived a {adj} {kind} named {h}.",
          "There was once a {adj} {kind} called {h}.",
          "Once there was a {adj} {kind}. The {kind}'s name was {h}.",
          "In {home} lived a {adj} {kind} named {h}.")
    w.ctx["act"] = w.pick(ACTIVITIES)
    w.say("{h.He} liked to {act}.", "{h.He} loved to {act} every day.", "{h.His} favorite thing was to {act}.",
          p=0.7)


def _setting(w: _Writer) -> None:
    """A sentence of scenery, sometimes."""
    w.ctx.update(weather=w.pick(WEATHER), animal2=w.pick(("bird", "robin", "blackbird", "little bird", "sparrow")), col2=w.pick(COLORS))
    w.say("It was a {weather} day.", "The sky was {col2} and the day was {weather}.",
          "The day was {weather}, and a {animal2} was singing in a tree.",
          "A {col2} {animal2} was watching from a tree.", "It was {weather} outside.",
          "The flowers were {col2} and the grass was green.", "A soft wind moved the leaves.",
          "Big white clouds floated by.", "The air smelled of rain and flowers.", p=0.5)


def _interlude(w: _Writer, who: str) -> None:
    """Sometimes, a sentence about something the character (``{who}``) sees on the way."""
    animal = w.pick(animals_with(some=("legs", "wings")))
    w.ctx.update(animal3=animal, a3=article(animal), doing=w.pick(doings_for(animal)))
    w.say(f"On the way, {{{who}.he}} saw {{a3}} {{animal3}} {{doing}}.", f"{{{who}.He}} stopped to watch {{a3}} {{animal3}} {{doing}}.",
          f"{{{who}.He}} waved at {{a3}} {{animal3}} {{doing}}.", p=0.4)


def _set_object(w: _Writer, trait: str | None = None) -> str:
    """The story's key object (one that has ``trait``, if given), with a look and a giver."""
    toy, look = w.pick(toys_with(trait) if trait else TOYS), w.pick(COLORS + LOOKS)
    w.ctx.update(toy=toy, look=look, a_look=article(look), giver=w.pick(RELATIVES))
    return toy


def _ending_friends(w: _Writer) -> None:
    w.say(*[e.format(a="{h}", b="{f}") for e in ENDINGS_FRIENDS])


def lost_toy(w: _Writer) -> list[str]:
    """A child loses a beloved object; a new friend helps find it."""
    h = w.child("h")
    toy = _set_object(w)
    _opening(w, h)
    w.say("{h.He} had {a_look} {look} {toy}.", "{giver} gave {h.him} {a_look} {look} {toy}.",
          "{h.He} got {a_look} {look} {toy} from {giver}.")
    w.say("{h.He} loved the {toy} very much.", "{h.He} took the {toy} everywhere.",
          "The {toy} was {h.his} favorite toy.")
    w.ctx.update(when=w.pick(WHEN), place=w.pick(PLACES), hide=w.pick(HIDING), sud=w.pick(SUDDENLY), sad=w.pick(SAD),
                 animal=w.pick(animals_with("grabs", "runs")), bird=w.pick(animals_with("grabs", "flies")))
    w.say("{when}, {h} took the {toy} to the {place}.", "{when}, {h} went to the {place} with {h.p_his} {toy}.")
    _interlude(w, "h")
    _setting(w)
    w.say("{h.He} put the {toy} down to {act}. When {h.p_he} came back, the {toy} was gone!",
          *(("{sud}, a {animal} ran by and grabbed the {toy}! The {animal} ran away.",
             "{sud}, a {bird} flew down and took the {toy} in its beak!") if toy in toys_with("small") else ()),
          *(("{sud}, a strong wind came and blew the {toy} away!",) if toy in toys_with("light") else ()))
    w.say("{h.He} was {sad}.", "{h.He} felt {sad}.", "{h.He} began to cry.")
    w.say('{h.He} said, "Where is my {toy}?"', "{h.He} looked and looked, but {h.p_he} could not find it.")
    f = w.child("f")
    w.ctx.update(fkind=f.kind, happy=w.pick(HAPPY))
    w.say("Then a {fkind} named {f} came by.", "Just then, {h.he} saw a {fkind} named {f}.",
          "A kind {fkind} named {f} saw {h.him}.")
    w.say('{f.He} asked, "Why are you sad, {h}?"', '{f.He} said, "Hello, {h}. What is wrong?"')
    w.say('{h.He} said, "I lost my {toy}."', '{h.He} cried, "My {toy} is gone!"')
    w.say('{f.He} said, "Do not cry. I will help you look."', '{f.He} smiled and said, "I can help you!"')
    w.say("{h} and {f} looked everywhere.", "{h} and {f} looked high and low.")
    w.say("At last, {f} found the {toy} {hide}!", "After a long time, {f} saw the {toy} {hide}.")
    w.say('{h.He} was {happy}. "Thank you, {f}!" {h.p_he} said.',
          '{h.He} hugged {f}. "You are a good friend, {f}," {h.p_he} said.')
    w.say("{h.He} held the {toy} tight and never lost it again.", "", p=0.6)
    _ending_friends(w)
    return [toy]


def new_friend(w: _Writer) -> list[str]:
    """A child sees another child alone and shares a toy."""
    h = w.child("h")
    toy = _set_object(w)
    _opening(w, h)
    w.ctx.update(when=w.pick(WHEN), place=w.pick(PLACES), parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")),
                 sad=w.pick(SAD), happy=w.pick(HAPPY))
    w.say("{when}, {h} went to the {place} with {parent}.", "{when}, {h} and {parent} went to the {place}.")
    _interlude(w, "h")
    w.say("{h.He} brought {h.p_his} {look} {toy}.", "{h.He} took {h.p_his} {look} {toy} with {h.p_him}.")
    _setting(w)
    f = w.child("f")
    w.ctx["fkind"] = f.kind
    w.say("At the {place}, {h.he} saw a {fkind} sitting all alone.", "{h.He} saw a {fkind} sitting on a bench by the path.")
    w.say("The {fkind} looked {sad}.", "The {fkind} was not playing.")
    w.say('{h.He} walked over and said, "Hi! I am {h}. What is your name?"',
          '{h.He} said, "Hello! My name is {h}. Who are you?"')
    w.say('"I am {f}," said the {fkind}.', '"My name is {f}," the {fkind} said.')
    w.say('"Why are you {sad}, {f}?" asked {h}.', '"What is wrong, {f}?" asked {h}.')
    w.say('{f.He} said, "I have no one to play with."', '{f.He} said, "I lost my ball and I have no toys."',
          '{f.He} said, "I am new here and I have no friends."')
    w.say('{h.He} smiled and said, "You can play with my {toy}, {f}!"',
          "{h.He} said, \"Let's play together, {f}. You can use my {toy}.\"")
    w.say("{f.He} was {happy}.", "{f.He} smiled a big smile.")
    w.say("{h} showed {f} how to {act}.", "{h} and {f} played with the {toy} all day.",
          "{h} and {f} took turns with the {toy}.")
    w.say("They laughed and ran and had lots of fun.", "They had so much fun together.", p=0.6)
    w.say('When it was time to go, {f} gave the {toy} back. "Thank you, {h}," {f.p_he} said.',
          'At the end of the day, {f} gave the {toy} back to {h}.')
    _ending_friends(w)
    return [toy]


def pet_runs_away(w: _Writer) -> list[str]:
    """A pet runs after an animal; the child finds it with the lost object."""
    h = w.child("h")
    pet = w.pick(("dog", "cat", "puppy", "kitten", "bunny", "pony"))
    p = w.join("p", Character(w.pick(PET_NAMES), pet, "it"))
    toy = _set_object(w, "small")
    _opening(w, h)
    w.ctx.update(pet=pet, pcol=w.pick(COLORS + PET_LOOKS), when=w.pick(WHEN), place=w.pick(PLACES),
                 animal=w.pick(animals_with("legs", "small", some=("runs", "hops"))), hide=w.pick(HIDING), sad=w.pick(SAD),
                 happy=w.pick(HAPPY),
                 sud=w.pick(SUDDENLY), parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")))
    w.ctx["a_pcol"] = article(w.ctx["pcol"])
    w.say("{h.He} had {a_pcol} {pcol} {pet} named {p}.", "{h.His} best friend was {a_pcol} {pcol} {pet} named {p}.")
    w.say("{p.He} liked to run and jump.", "{p.He} liked to sleep in the sun.", "{p.He} was fast and funny.",
          "{p.He} liked to chase butterflies.")
    w.say("{h} and {p} played with {a_look} {look} {toy} every day.", "{h} and {p} loved {a_look} {look} {toy}.")
    w.say("{when}, {h} took {p} and the {toy} to the {place}.", "{when}, {h} and {p} went to the {place} with the {toy}.")
    _interlude(w, "h")
    _setting(w)
    w.say("{sud}, {p} saw a {animal}. {p.He} grabbed the {toy} and ran after the {animal}!",
          "{sud}, a {animal} jumped out. {p} took the {toy} and ran after it!")
    w.say('{h.He} shouted, "Come back, {p}!"', '{h.He} called, "Stop, {p}! Come back!"')
    w.say("But {p} did not come back.", "But {p} was gone.")
    w.say("{h.He} was {sad}. {h.He} looked everywhere, but {h.p_he} could not find {p}.",
          "{h.He} felt {sad}. Where was {p}?")
    w.say('{h.He} ran to {parent} and said, "{p} is gone!"', "{h.He} asked {parent} to help {h.p_him}.", p=0.6)
    w.say("{h} looked {hide}.", "{h} looked by the trees and by the water.")
    w.say("At last, {h} found {p}! {p.He} was sleeping {hide} with the {toy}.",
          "Then {h} heard a happy sound. It was {p}! {p.He} was sitting {hide} with the {toy}.")
    w.say('{h.He} hugged {p}. "I missed you, {p}!" {h.p_he} said.', '{h.He} was {happy}. "Good {pet}, {p}," {h.p_he} said.')
    w.say("Then {h} and {p} went home together, and the {toy} came too.",
          "{h} took {p} and the {toy} home. From then on, {h} always kept {p} close.")
    return [toy]


def sharing(w: _Writer) -> list[str]:
    """Two children fight over an object, it gets dirty, and they learn to share."""
    h = w.child("h")
    toy = _set_object(w)
    _opening(w, h)
    f = w.child("f")
    w.ctx.update(sib=("sister" if f.gender == "she" else "brother"), fkind=f.kind, when=w.pick(WHEN),
                 place=w.pick(PLACES), sad=w.pick(SAD), parent=w.pick(("Mom", "Dad", "Grandma")),
                 mess=w.pick(("fell into the mud", "fell into a puddle", "fell and broke", "landed in the pond")
                             + (("got stuck in a tree", "flew over the fence") if toy in toys_with("light") else ())))
    w.say("{h.He} had a little {sib} named {f}.", "{h.His} best friend was a {fkind} named {f}.",
          "{h.He} lived next door to a {fkind} named {f}.")
    w.say("{f.He} liked to {act} too.", "{f.He} was a lot of fun.", p=0.6)
    w.say("{when}, {h} and {f} found {a_look} {look} {toy} at the {place}.",
          "{when}, {giver} gave {h} and {f} {a_look} {look} {toy}.")
    w.say("{h} wanted the {toy}. {f} wanted the {toy} too.", "{h} and {f} both wanted to play with the {toy}.")
    w.say('{h.He} said, "It is mine!"', '{h.He} said, "I want it!"')
    w.say('{f} said, "No, it is mine!"', '{f} shouted, "No, I had it first!"')
    w.say("They pulled and pulled. Then the {toy} {mess}!", "They pulled the {toy} hard. Oh no! The {toy} {mess}!")
    w.say("{h} and {f} were {sad}.", "Now nobody could play with the {toy}.")
    w.say('{parent} came and said, "If you share, you can both have fun."',
          '{parent} saw them and said, "Fighting is not nice. Friends share."')
    w.say('{h} looked at {f} and said, "I am sorry, {f}."', '{h} said, "{f}, I am sorry. We can share."')
    w.say('{f} smiled and said, "I am sorry too, {h}."', "{f} said, \"Thank you, {h}. Let's share.\"")
    w.say("They cleaned the {toy} together.", "{parent} helped them fix the {toy}.")
    w.say("Then {h} and {f} took turns with the {toy}.", "{h} and {f} played with the {toy} together.")
    w.say("From then on, {h} and {f} always shared their toys.", "{h} and {f} learned that sharing is fun.")
    return [toy]


def fear(w: _Writer) -> list[str]:
    """A child is afraid of something; a friend helps, and the child is brave."""
    h = w.child("h")
    toy = _set_object(w)
    _opening(w, h)
    thing, problem, brave = w.pick(FEARS)
    w.ctx.update(thing=thing, problem=problem, brave=brave, when=w.pick(WHEN), happy=w.pick(HAPPY))
    w.say("But {h.he} was afraid of {thing}.", "{h.He} was scared of {thing}.")
    w.say("{h.He} always held {h.p_his} {look} {toy} when {h.p_he} was scared.",
          "{h.His} {look} {toy} helped {h.p_him} feel safe.")
    w.say("{when}, {h} saw that {problem}.", "{when}, {h} had to be brave, because {problem}.")
    w.say("{h.He} did not want to go.", "{h.He} held the {toy} and shook.")
    f = w.child("f")
    w.ctx["fkind"] = f.kind
    w.say("{h.His} friend {f} came to help.", "Then a {fkind} named {f} came over.", "{h.His} friend {f} saw {h.p_him}.")
    w.say('{f.He} said, "Do not be scared, {h}. I will stay with you."',
          '{f.He} said, "You can do it, {h}! I was scared once too."')
    w.say("{h.He} took a deep breath.", "{h.He} looked at {f} and nodded.")
    w.say("Then {h} {brave}.", "{h.He} was brave and {brave}.")
    w.say("It was not so bad. It was fun!", "It was not scary at all.")
    w.say('{h.He} said, "I did it, {f}!"', '{h.He} shouted, "Look, {f}! I did it!"')
    w.say('{f.He} clapped and said, "I knew you could, {h}!"', "{f.He} gave {h} a big hug.")
    w.say("Now {h} was not afraid of {thing} anymore.", "{h} felt {happy} and brave.")
    w.say("{h.He} put the {toy} away and smiled.",
          "{h.He} did not need to hold the {toy} anymore.")
    return [toy]


def help_animal(w: _Writer) -> list[str]:
    """A child cares for a hurt animal, names it, and it comes back to visit."""
    h = w.child("h")
    _opening(w, h)
    obj = w.pick(("box", "basket", "blanket", "scarf", "hat", "bucket", "sweater", "towel"))
    animal = w.pick(animals_with("small", "drinks", some=("legs", "wings")))
    hurts = [hurt for hurt, need in HURTS if need in ANIMAL_TRAITS[animal]]
    w.ctx.update(obj=obj, animal=animal, look=w.pick(COLORS + LOOKS), when=w.pick(WHEN), place=w.pick(OUTDOORS),
                 hide=w.pick(HIDING), food=w.pick(foods_for(animal)), parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")),
                 sad=w.pick(SAD), happy=w.pick(HAPPY), hurt=w.pick(hurts))
    w.ctx["a_look"] = article(w.ctx["look"])
    w.say("{h.He} had {a_look} {look} {obj}.", "{h.His} grandma made {h.p_him} {a_look} {look} {obj}.")
    w.say("{when}, {h} was walking in the {place}.", "{when}, {h} went to the {place} to {act}.")
    _interlude(w, "h")
    _setting(w)
    w.say("{h.He} saw a little {animal} {hide}.", "{h.He} heard a small sound {hide}. It was a little {animal}.")
    w.say("The {animal} had {hurt}.", "The {animal} could not move. It had {hurt}.")
    w.say('{h.He} said, "Poor little {animal}. I will help you."', "{h.He} felt {sad} for the {animal}.")
    w.say("{h.He} put the {animal} in {h.p_his} {obj} and took it home.",
          "{h.He} wrapped the {animal} in {h.p_his} {obj} and carried it home.")
    p = w.join("p", Character(w.pick(PET_NAMES), animal, "it"))
    w.say("{parent} said, \"Let's take care of it.\"", '{parent} looked at the {animal} and said, "It needs rest."')
    w.say("{h} named the {animal} {p}.", '{h.He} said, "I will call you {p}."')
    w.say("Every day, {h} gave {p} some {food} and water.", "{h} gave {p} some {food} every day.",
          "{p} ate the {food} that {h} brought.")
    w.say("{p.He} slept in the {obj}.", "{p.He} got better and better.", "Soon {p} could move again.")
    w.say("One morning, {p} was strong again. {p.He} went back to the {place}.",
          "When {p} was well, {h} took {p.p_him} back to the {place}.")
    w.say("{h} was a little {sad}, but {h.p_he} was {happy} too.", "{h} waved goodbye to {p}.")
    w.say("The next day, {p} came back to visit {h}!", "The next morning, {h} saw {p} by the window!")
    w.say("{p.He} sat on {h.his} {obj}.", "{p.He} brought {h} a little flower.")
    w.say("{h} smiled. {p} was {h.p_his} friend forever.", "From then on, {p} came to see {h} every day.")
    return [obj]


def make_gift(w: _Writer) -> list[str]:
    """A child makes something for a friend, fails once, tries again."""
    h = w.child("h")
    _opening(w, h)
    f = w.child("f")
    thing, stuff, step = w.pick(MAKES)
    w.ctx.update(thing=thing, stuff=stuff, step=step, fkind=f.kind, when=w.pick(WHEN), happy=w.pick(HAPPY),
                 sad=w.pick(SAD), parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")),
                 oops=w.pick(("it fell on the floor", "it fell apart", "it was all crooked", "it got wet",
                              "the dog sat on it", "it broke in two")))
    w.say("{h.His} best friend was a {fkind} named {f}.", "{h.He} had a good friend named {f}.")
    w.say("{f}'s birthday was soon.", "{f} was sick and had to stay in bed.", "{f} was moving to a new town.")
    w.say("{when}, {h} wanted to make a {thing} for {f}.", "{when}, {h} had an idea. {h.He} would make a {thing} for {f}!")
    w.say("{h.He} got {stuff}.", "{h.He} found {stuff}.")
    w.say("{h.He} worked hard and {step}.", "First, {h.he} {step}.")
    w.say("But then {oops}. Oh no!", "But {oops}!")
    w.say("{h.He} was {sad}.", "{h.He} almost cried.")
    w.say('{parent} said, "Try again, {h}. You can do it!"', '{parent} said, "Do not give up, {h}."')
    w.say("{h.He} tried again. This time, the {thing} was perfect.", "{h.He} made a new {thing}. It was even better!")
    w.say("{h} gave the {thing} to {f}.", "{h} ran to {f} and gave {f.p_him} the {thing}.")
    w.say('{f.He} said, "Thank you, {h}! I love it!"', '{f.He} smiled and said, "This is the best {thing}, {h}!"')
    w.say("{h} felt {happy}. Making things for friends is fun.", "{h} and {f} laughed. The {thing} made them both {happy}.")
    return [thing]


def rainy_day(w: _Writer) -> list[str]:
    """Rain spoils a plan; two children play inside until the sun comes out."""
    h = w.child("h")
    toy = _set_object(w)
    _opening(w, h)
    f = w.child("f")
    w.ctx.update(sib=("sister" if f.gender == "she" else "brother"), place=w.pick(PLACES), sad=w.pick(SAD),
                 happy=w.pick(HAPPY), when=w.pick(WHEN), food=w.pick(FOODS),
                 parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")),
                 rain=w.pick(("it began to rain", "it started to snow", "a big storm came", "it was too windy")))
    w.say("{when}, {h} and {h.p_his} {sib} {f} wanted to go to the {place}.",
          "{when}, {h} and {h.p_his} friend {f} wanted to play at the {place}.")
    w.say("But {rain}.", "But then {rain}.")
    w.say("{h} looked out the window. {h.He} was {sad}.", '{h} said, "Now we cannot go to the {place}."')
    w.say("{f} said, \"Let's play inside with your {toy}!\"", "{f} had an idea. They could play with {h}'s {toy}.")
    w.say("{h} got {h.p_his} {look} {toy}.", "{h.He} found {h.p_his} {look} {toy}.")
    w.say("{h} and {f} played with the {toy} all morning.", "{h} and {f} made a game with the {toy}.")
    w.ctx["a_food"] = article(w.ctx["food"])
    w.say("{parent} made them {a_food} {food} for lunch.", "{parent} brought them hot milk and {a_food} {food}.", p=0.6)
    w.say("Then the rain stopped and the sun came out.", "Soon the sky was clear again.")
    w.say('{f} shouted, "Look, {h}! A rainbow!"', "{h} and {f} saw a big rainbow in the sky.")
    w.say("{h} and {f} took the {toy} and ran to the {place}.", "They put on their boots and took the {toy} outside.")
    w.say("{h} was {happy}. It was a good day after all.", "{h} and {f} played until it was dark.")
    return [toy]


def _listing(items: list[str]) -> str:
    """``a, b and c``."""
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else items[0]


def shopping_list(w: _Writer) -> list[str]:
    """A child writes a shopping list and reads it back at the shop, word for word."""
    h = w.child("h")
    _opening(w, h)
    items = w.rng.sample(GROCERIES, w.rng.randint(3, 9))
    w.ctx.update(items=_listing(items), when=w.pick(WHEN), parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")),
                 shop=w.pick(("market", "grocery store", "shop", "farm stand", "corner shop")), happy=w.pick(HAPPY),
                 n=len(items))
    w.say("{when}, {parent} asked {h} to help with the shopping.", "{when}, {h} and {parent} went to the {shop}.")
    w.say('{parent} said, "We need {items}."', "{h} wrote a list: {items}.",
          '{parent} said, "Please write this down: {items}."')
    w.say("{h.He} read the list twice so {h.p_he} would not forget.", "{h.He} put the list in {h.p_his} pocket.", p=0.5)
    w.say("At the {shop}, {h} read the list out loud: {items}.", "At the {shop}, {h.he} read the list again: {items}.")
    w.say("They found everything on the list.", "{h} put all {n} things in the basket, one by one.")
    w.say('At home, {h} said, "We got {items}!"', "At home, {parent} checked the bags: {items}.", p=0.6)
    w.say("{parent} said, \"Thank you, {h}. You are a good helper.\"", "{h} felt {happy}.")
    return [items[0]]


def spelling_words(w: _Writer) -> list[str]:
    """A teacher writes words on the board; a child reads them back, then says them again at home."""
    h = w.child("h")
    _opening(w, h)
    words = w.rng.sample(WORDS, w.rng.randint(4, 12))
    sep = w.pick((", ", ", ", " "))
    w.ctx.update(words=sep.join(words), when=w.pick(WHEN), n=len(words), happy=w.pick(HAPPY),
                 teacher=w.pick(("the teacher", "Miss Green", "Mr. Brown", "Mrs. Hill", "the new teacher")),
                 parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")), first=words[0])
    w.ctx["Teacher"] = w.ctx["teacher"][0].upper() + w.ctx["teacher"][1:]
    w.say("{when}, {h} had a spelling test at school.", "{when}, {h.his} class learned new words.",
          "{when}, {h} wanted to learn {n} new words.")
    w.say("{Teacher} wrote the words on the board: {words}.", '{Teacher} said, "Here are your words: {words}."')
    w.say("{h} read them out loud: {words}.", "{h} said the words back: {words}.")
    w.say("{h.He} wrote them in {h.p_his} notebook.", "{h.He} said them again and again.", p=0.5)
    w.say("At home, {h} said them for {parent}: {words}.", "That night, {h.he} read the list to {parent}: {words}.",
          p=0.7)
    w.say("{h} got every word right, even {first}.", "{Teacher} gave {h} a gold star.", "{h} felt {happy}.")
    return [words[0]]


def song_twice(w: _Writer) -> list[str]:
    """A child makes up a song and sings it again for a friend, who sings along."""
    h = w.child("h")
    _opening(w, h)
    f = w.child("f")
    line = lambda: " ".join(w.rng.sample(WORDS, w.rng.randint(3, 6)))  # noqa: E731
    verse = ", ".join(line() for _ in range(w.rng.randint(2, 4)))
    verse = verse[0].upper() + verse[1:]
    w.ctx.update(verse=verse, fkind=f.kind, when=w.pick(WHEN), place=w.pick(PLACES), happy=w.pick(HAPPY))
    w.say("{h.His} friend {f} liked songs.", "{h.He} had a friend, a {fkind} named {f}.")
    w.say("{when}, {h} made up a song at the {place}.", "{when}, {h} found a new song in an old book.")
    w.say('It went like this: "{verse}."', '{h.He} sang, "{verse}."')
    w.say("{f} laughed and said, \"Sing it again, {h}!\"", '{f} said, "I want to learn it, {h}."')
    w.say('So {h} sang it again: "{verse}."', '{h} sang it once more, slowly: "{verse}."')
    w.say('Then {f} sang it too: "{verse}."', "Then {h} and {f} sang it together: \"{verse}.\"", p=0.5)
    w.say("They sang it all the way home.", "{h} and {f} were {happy}. It was a silly song, but it was theirs.")
    return [h.name]


def nature_walk(w: _Writer) -> list[str]:
    """A walk outdoors: the animals a child sees, then told again, in the same order, at home."""
    h = w.child("h")
    _opening(w, h)
    seen = []
    for animal in w.rng.sample(animals_with(some=("legs", "wings")), w.rng.randint(2, 5)):
        seen.append(f"{article(animal)} {animal} {w.pick(doings_for(animal))}")
    w.ctx.update(when=w.pick(WHEN), place=w.pick(OUTDOORS), parent=w.pick(("Mom", "Dad", "Grandma", "Grandpa")),
                 rel=w.pick(RELATIVES), happy=w.pick(HAPPY), seen=_listing(seen), n=len(seen))
    w.say("{when}, {h} and {parent} went for a walk in the {place}.", "{when}, {parent} took {h} to the {place}.")
    _setting(w)
    for k, thing in enumerate(seen):
        w.ctx["thing"] = thing
        w.say(("First" if k == 0 else w.pick(THEN)) + ", {h.he} saw {thing}.")
    w.say("At home, {h} told {rel} what {h.p_he} saw: {seen}.", "That night, {h} drew {n} pictures: {seen}.")
    w.say("{rel} said, \"What a walk, {h}!\"", "{h} felt {happy}. It was a good walk.")
    return [seen[0].split()[1]]


PLOTS = (lost_toy, new_friend, pet_runs_away, sharing, fear, help_animal, make_gift, rainy_day,
         shopping_list, spelling_words, song_twice, nature_walk)


# ---- public API -----------------------------------------------------------------------------
def generate_story(rng: random.Random) -> Story:
    """One story, drawn with ``rng``."""
    w = _Writer(rng)
    plot = w.pick(PLOTS)
    objects = plot(w)
    w.sentences = [s for s in w.sentences if s]
    return w.story(plot.__name__, objects)


def generate_stories(n: int, seed: int = 0) -> list[Story]:
    """``n`` stories; the same ``seed`` always gives the same stories."""
    rng = random.Random(seed)
    return [generate_story(rng) for _ in range(n)]


def corpus_text(stories: list[Story]) -> str:
    """The stories as one text, each followed by ``<|endoftext|>``."""
    return "".join(s.text + EOT for s in stories)


def encode_stories(stories: list[Story], tokenizer) -> list[int]:
    """One token stream: each story's ids followed by the ``<|endoftext|>`` id (50256)."""
    ids: list[int] = []
    for s in stories:
        ids += tokenizer.encode(s.text) + [EOT_ID]
    return ids


def repeated_span(rng: random.Random, pool: list[int], lengths: tuple[int, int] = (4, 90)) -> list[int]:
    """A document that is a span ``r`` of random tokens read twice (a third time when it fits): ``r + r``.

    ``r`` has a length drawn uniformly from ``lengths`` and tokens drawn uniformly from ``pool``. Such
    documents teach the induction circuit on *any* token (a previous-token head, then a head that
    looks at what followed the earlier occurrence of the current token), which copying names alone
    does not."""
    r = [rng.choice(pool) for _ in range(rng.randint(*lengths))]
    return r * (3 if 3 * len(r) < 240 and rng.random() < 0.2 else 2)


def training_stream(stories: list[Story], tokenizer, repeat_every: int = 8, seed: int = 0, spans: int = 1,
                    span_max: int = 90) -> list[int]:
    """:func:`encode_stories`, with ``spans`` :func:`repeated_span` documents (each with its
    ``<|endoftext|>``) after every ``repeat_every``-th story. The spans draw from the tokens of the
    stories themselves, so they add no token to the vocabulary; ``seed`` fixes them; ``r`` has 4 to
    ``span_max`` tokens. ``repeat_every=0``: stories only."""
    docs = [tokenizer.encode(s.text) for s in stories]
    pool = sorted({t for d in docs for t in d})
    rng = random.Random(seed)
    ids: list[int] = []
    for k, doc in enumerate(docs, start=1):
        ids += doc + [EOT_ID]
        if repeat_every and k % repeat_every == 0:
            for _ in range(spans):
                ids += repeated_span(rng, pool, (4, span_max)) + [EOT_ID]
    return ids


def name_positions(ids: list[int], name_ids: set[int]) -> list[int]:
    """Positions ``t`` where ``ids[t + 1]`` is one of ``name_ids`` that already occurred in
    ``ids[: t + 1]``: where the model should copy a name it has read before."""
    seen: set[int] = set()
    found = []
    for t in range(len(ids) - 1):
        seen.add(ids[t])
        if ids[t + 1] in name_ids and ids[t + 1] in seen:
            found.append(t)
    return found
