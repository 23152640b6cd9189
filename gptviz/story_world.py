"""What the things in the stories are and what they can do: the constraint tables of :mod:`gptviz.corpus`.

A sentence such as "a fox flapping its wings" is what a careless generator writes and a model then
repeats. So every animal has a set of *traits* (``wings``, ``flies``, ``swims``, ``grazes`` ...), every
thing an animal can be seen doing (:data:`DOING`) names the traits it needs, and a story picks only
the pairs that fit (:func:`doings_for`). Toys have traits too: ``small`` ones can be carried off by a
dog or a crow, ``light`` ones blown away by the wind; toys never eat, and what an animal eats comes
from its diet (:data:`DIETS`). ``tests/test_story_world.py`` samples stories and checks the text.

:data:`WORDS` is a bank of everyday words (nouns, verbs, adjectives) for the plots in which a list is
read back or a song is sung twice.
"""

from __future__ import annotations


def _table(spec: str) -> dict[str, frozenset[str]]:
    """``"name: trait trait ...; ..."`` -> ``{name: frozenset(traits)}``."""
    table = {}
    for entry in spec.split(";"):
        name, traits = entry.split(":")
        table[name.strip()] = frozenset(traits.split())
    return table


#: Every animal of the stories and its traits. Diet traits (seeds, greens, nuts, fruit, bugs, fish,
#: nectar, milk, cheese, hay, meat) say what it eats; ``small`` ones fit in a child's box or basket.
ANIMAL_TRAITS = _table(
    "bird: wings flies nests sings pecks perches drinks small seeds bugs;"
    "robin: wings flies nests sings pecks perches drinks small seeds bugs;"
    "sparrow: wings flies nests sings pecks perches drinks small seeds;"
    "blackbird: wings flies nests sings pecks perches drinks small seeds bugs;"
    "crow: wings flies nests pecks perches drinks grabs seeds fruit;"
    "magpie: wings flies nests pecks perches drinks grabs seeds bugs;"
    "seagull: wings flies pecks perches swims grabs fish;"
    "pigeon: wings flies pecks perches drinks small seeds;"
    "owl: wings flies nests perches drinks small meat;"
    "eagle: wings flies nests perches meat fish;"
    "woodpecker: wings flies nests pecks perches small bugs;"
    "parrot: wings flies perches pecks drinks small seeds fruit;"
    "duck: wings flies swims pecks drinks small seeds greens;"
    "duckling: wings swims pecks drinks small seeds greens;"
    "goose: wings flies swims pecks drinks grazes greens seeds;"
    "swan: wings flies swims drinks greens;"
    "chick: wings pecks drinks small seeds;"
    "hen: wings pecks drinks perches seeds bugs;"
    "rooster: wings pecks perches drinks seeds;"
    "penguin: wings swims fish;"
    "peacock: wings pecks drinks seeds;"
    "flamingo: wings flies swims drinks bugs;"
    "pelican: wings flies swims fish;"
    "hummingbird: wings flies drinks small nectar;"
    "butterfly: wings flies small nectar;"
    "moth: wings flies small nectar;"
    "bee: wings flies buzzes small nectar;"
    "ladybug: wings flies climbs small bugs;"
    "dragonfly: wings flies small bugs;"
    "firefly: wings flies small nectar;"
    "bat: wings flies climbs fruit bugs;"
    "frog: legs hops swims leaps drinks small bugs;"
    "toad: legs hops small bugs;"
    "grasshopper: legs hops small greens;"
    "cricket: legs hops sings small greens;"
    "beetle: legs climbs small greens;"
    "squirrel: legs paws climbs runs grabs tail perches drinks burrows small nuts;"
    "chipmunk: legs paws climbs digs runs tail burrows drinks small nuts seeds;"
    "rabbit: legs paws hops digs runs burrows drinks small greens;"
    "bunny: legs paws hops digs runs burrows drinks small greens;"
    "mouse: legs paws runs grabs tail climbs burrows drinks small cheese seeds;"
    "hamster: legs paws runs burrows drinks small seeds nuts;"
    "hedgehog: legs digs runs drinks small bugs;"
    "mole: legs paws digs burrows small bugs;"
    "fox: legs paws runs digs grabs tail burrows drinks rolls meat;"
    "wolf: legs paws runs digs tail drinks meat;"
    "dog: legs paws runs digs grabs tail wags drinks rolls swims meat;"
    "puppy: legs paws runs digs grabs tail wags drinks rolls small milk meat;"
    "cat: legs paws runs climbs grabs tail perches drinks rolls fish milk;"
    "kitten: legs paws runs climbs grabs tail perches drinks rolls small milk fish;"
    "raccoon: legs paws climbs grabs tail drinks fruit fish;"
    "skunk: legs paws digs tail drinks bugs fruit;"
    "badger: legs paws digs burrows drinks bugs;"
    "beaver: legs paws swims digs tail drinks greens;"
    "otter: legs paws swims grabs tail rolls drinks fish;"
    "deer: legs runs grazes drinks greens;"
    "moose: legs runs grazes swims drinks greens;"
    "goat: legs climbs grazes grabs drinks hay greens;"
    "cow: legs grazes drinks hay greens;"
    "calf: legs grazes drinks milk hay;"
    "pig: legs digs rolls drinks fruit greens;"
    "piglet: legs digs rolls drinks small milk fruit;"
    "sheep: legs grazes drinks hay greens;"
    "lamb: legs grazes drinks milk greens;"
    "horse: legs runs grazes rolls drinks hay;"
    "pony: legs runs grazes rolls drinks hay;"
    "donkey: legs grazes rolls drinks hay;"
    "llama: legs grazes drinks hay;"
    "camel: legs grazes drinks hay;"
    "monkey: legs climbs grabs tail swings drinks fruit;"
    "gorilla: legs climbs grabs swings drinks fruit greens;"
    "bear: legs paws climbs swims grabs rolls drinks fish fruit;"
    "panda: legs paws climbs rolls drinks greens;"
    "koala: legs climbs drinks greens;"
    "kangaroo: legs hops grazes tail drinks greens;"
    "giraffe: legs runs grazes drinks greens;"
    "zebra: legs runs grazes drinks greens;"
    "elephant: legs swims grazes drinks greens fruit;"
    "hippo: legs swims grazes drinks greens;"
    "lion: legs paws runs tail drinks meat;"
    "tiger: legs paws runs swims tail drinks meat;"
    "cheetah: legs paws runs tail drinks meat;"
    "turtle: legs swims drinks small greens;"
    "lizard: legs climbs runs tail small bugs;"
    "snake: swims burrows meat;"
    "crab: legs swims digs small fish;"
    "fish: swims leaps small bugs;"
    "goldfish: swims small bugs;"
    "dolphin: swims leaps fish;"
    "whale: swims leaps fish;"
    "seal: swims rolls fish;"
    "octopus: swims grabs fish;"
    "spider: legs climbs webs small bugs;"
    "ant: legs climbs digs small seeds;"
    "worm: digs small greens;"
    "caterpillar: climbs small greens;"
    "snail: climbs small greens"
)
ANIMALS = tuple(ANIMAL_TRAITS)

#: What an animal can be seen doing, and the traits it needs for it (all of them).
DOING = (
    ("flapping its wings", "wings"), ("flying over the trees", "flies"), ("flying in circles", "flies"),
    ("building a nest", "nests"), ("singing on a branch", "sings"), ("pecking at the ground", "pecks"),
    ("sitting on a fence", "perches"), ("buzzing around the flowers", "buzzes"),
    ("spinning a web", "webs"), ("munching on grass", "grazes"), ("eating a leaf", "greens"),
    ("digging a hole", "digs"), ("climbing a tree", "climbs"), ("swimming in circles", "swims"),
    ("jumping out of the water", "leaps"), ("hopping on a log", "hops"), ("chasing its tail", "tail runs"),
    ("wagging its tail", "wags"), ("carrying a twig", "grabs"), ("rolling in the dirt", "rolls"),
    ("peeking out of a hole", "burrows"), ("drinking from a stream", "drinks"),
    ("swinging from a branch", "swings"), ("running in the grass", "runs"), ("looking for nuts", "nuts"),
    ("sleeping in the sun", "legs"), ("resting on a rock", "legs"),
)

#: What ails a hurt animal, and the trait it needs to have that hurt.
HURTS = (("a hurt leg", "legs"), ("a hurt wing", "wings"), ("a thorn in its paw", "paws"))

#: What each diet trait stands for on a plate.
DIETS = {
    "seeds": ("seeds", "bread crumbs", "sunflower seeds"), "greens": ("lettuce", "clover", "carrot tops"),
    "nuts": ("acorns", "nuts"), "fruit": ("berries", "apple slices"), "bugs": ("mealworms",),
    "fish": ("fish",), "nectar": ("sugar water",), "milk": ("warm milk",), "cheese": ("cheese",), "hay": ("hay",), "meat": ("meat",),
}


def animals_with(*traits: str, some: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The animals that have every trait in ``traits`` and (if given) at least one of ``some``."""
    return tuple(a for a, t in ANIMAL_TRAITS.items()
                 if t.issuperset(traits) and (not some or t.intersection(some)))


def doings_for(animal: str) -> tuple[str, ...]:
    """What ``animal`` may be seen doing: the :data:`DOING` phrases whose traits it has."""
    have = ANIMAL_TRAITS[animal]
    return tuple(phrase for phrase, need in DOING if have.issuperset(need.split()))


def foods_for(animal: str) -> tuple[str, ...]:
    """What ``animal`` eats, from its diet traits."""
    return tuple(food for diet, foods in DIETS.items() if diet in ANIMAL_TRAITS[animal] for food in foods)


#: The stories' key objects. ``small``: a dog, a crow or a monkey can carry it off; ``light``: the
#: wind can blow it away. Toys do nothing by themselves in any story.
TOY_TRAITS = _table(
    "ball: small; kite: small light; doll: small; teddy bear: small; toy car: small; truck: small; boat: small;"
    "hat: small light; book: small; drum: small; robot: small; balloon: small light; blanket: light; puzzle: small;"
    "shell: small; ring: small; box: small; bike: ; train: small; whistle: small; umbrella: light;"
    "scarf: small light; bucket: small; shovel: small; wagon: ; jar: small; key: small; map: small light;"
    "bell: small; feather: small light; crown: small; necklace: small; yo-yo: small; spinning top: small;"
    "marble: small; flute: small; sticker: small light; backpack: small; toy plane: small; dinosaur: small;"
    "rocket: small; music box: small; paint box: small; jump rope: small; lunch box: small; flashlight: small;"
    "magnet: small; clock: small; puppet: small; kazoo: small; teapot: small; paper boat: small light;"
    "pinwheel: small light; telescope: ; compass: small; lantern: small; sled: ; skateboard: ; scooter: ;"
    "trumpet: small; guitar: ; toy horse: small; rubber duck: small; snow globe: small; pillow: light;"
    "mitten: small light; bracelet: small; button: small; pencil: small; notebook: small; paintbrush: small;"
    "basket: small; cup: small; coin: small; acorn: small; pine cone: small; pebble: small; crayon: small;"
    "glove: small light; tambourine: small; sailboat: small; unicorn: small; ribbon: small light;"
    "paper crown: small light; beach ball: small light; toy boat: small; wooden spoon: small; harmonica: small;"
    "xylophone: small; toy bus: small; toy tractor: small; rag doll: small; stuffed bunny: small;"
    "stuffed elephant: small; fire truck: small; race car: small; bubble wand: small; water bottle: small;"
    "sun hat: small light; rain boot: small; sock puppet: small; kaleidoscope: small; piggy bank: small;"
    "photo: small light; postcard: small light; paper fan: small light; hula hoop: ; wind chime: small;"
    "rocking horse: ; dollhouse: ; tricycle: ; hammock: light; tent: light; toy drum: small; toy piano: small"
)
TOYS = tuple(TOY_TRAITS)


def toys_with(trait: str) -> tuple[str, ...]:
    """The toys that have ``trait`` (``small`` or ``light``)."""
    return tuple(t for t, traits in TOY_TRAITS.items() if trait in traits)


#: Places: outdoor ones, where animals live and the wind blows, and indoor ones.
OUTDOORS = (
    "park", "garden", "forest", "beach", "farm", "lake", "zoo", "river", "hill", "playground", "meadow",
    "pond", "backyard", "field", "woods", "valley", "orchard", "harbor", "island", "camp", "mountain",
    "jungle", "bridge", "pumpkin patch", "sunflower field", "farm stand", "village green", "seaside",
    "campground", "vegetable garden", "flower garden", "apple orchard", "picnic spot", "riverbank",
    "hilltop", "countryside", "rose garden", "duck pond", "nature trail", "sand dunes", "creek", "canyon",
    "waterfall", "desert", "prairie", "glade", "marsh", "cliff", "bay", "lagoon",
)
INDOORS = (
    "library", "market", "school", "shop", "museum", "barn", "bakery", "circus", "pool", "candy shop",
    "toy store", "train station", "castle", "lighthouse", "tree house", "aquarium", "post office",
    "bookshop", "kitchen", "classroom", "gym", "theater", "cinema", "hospital", "grocery store",
    "pet shop", "flower shop", "music room", "art room", "attic", "playroom", "cafe", "ice cream shop",
)
PLACES = OUTDOORS + INDOORS

#: Everyday words for lists, spelling lessons and songs (one or a few GPT-2 tokens each).
WORDS = tuple(sorted(set("""
table chair window door floor roof wall garden river mountain valley ocean island forest desert cloud
rain snow wind storm thunder lightning rainbow sunshine moon star planet comet sky earth stone rock
sand mud dust smoke fire water ice steam bubble wave shell pebble leaf branch root seed flower tree bush
grass moss fern vine petal blossom acorn pine oak maple willow cactus mushroom pumpkin carrot potato
onion garlic pepper tomato cucumber lettuce cabbage spinach broccoli celery bean pea corn rice bread
butter cheese milk cream yogurt honey jam soup salad noodle pasta pizza burger sandwich cookie cake pie
muffin waffle pancake cereal oatmeal apple banana orange lemon lime grape cherry peach pear plum melon
mango kiwi berry coconut pineapple raisin almond walnut peanut chocolate candy sugar salt flour egg
bacon sausage chicken fish turkey ham juice tea coffee water soda lemonade sauce vinegar oil spice
mint vanilla cinnamon ginger basket bucket bottle jar cup mug bowl plate spoon fork knife pan pot kettle
oven stove sink fridge lamp candle clock mirror pillow blanket bed sofa carpet curtain shelf drawer box
bag pocket purse wallet coin ticket letter stamp card paper pencil crayon marker eraser ruler notebook
book page story poem song music drum flute piano violin guitar trumpet horn bell whistle radio phone
camera picture painting photo poster map globe compass ladder rope string ribbon button zipper needle
thread scissors glue tape hammer nail screw wheel engine motor wagon truck tractor bus train plane ship
boat rocket bicycle scooter helmet jacket coat sweater shirt dress skirt pants shorts sock shoe boot
sandal hat cap scarf glove mitten belt tie apron pajamas umbrella towel soap brush comb toothbrush
cow horse sheep goat pig duck goose hen chicken rabbit mouse rat squirrel fox wolf bear deer moose lion
tiger zebra giraffe elephant monkey gorilla panda koala kangaroo camel llama donkey mule bat owl eagle
hawk crow robin sparrow parrot penguin swan pelican flamingo frog toad snake lizard turtle crab shrimp
lobster octopus whale dolphin shark seal otter beaver badger hedgehog mole ant bee wasp fly moth
butterfly beetle spider worm snail slug kitten puppy calf lamb foal chick duckling piglet
doctor nurse teacher farmer baker painter pilot sailor singer dancer driver builder cook gardener
king queen prince princess knight wizard giant dragon fairy elf pirate robot ghost monster
mother father sister brother baby aunt uncle cousin friend neighbor family grandma grandpa
morning noon evening night today tomorrow yesterday week month year spring summer autumn winter
monday tuesday wednesday thursday friday saturday sunday
one two three four five six seven eight nine ten eleven twelve twenty hundred thousand first second third
red orange yellow green blue purple pink brown black white gray silver gold
big small tall short long wide narrow thick thin heavy light fast slow loud quiet soft hard smooth rough
hot cold warm cool wet dry clean dirty new old young happy sad angry calm brave shy kind gentle funny silly
clever wise busy lazy sleepy hungry thirsty tired strong weak rich poor bright dark sunny rainy windy
snowy cloudy foggy sweet sour salty bitter fresh spicy crunchy juicy fluffy fuzzy shiny sparkly pretty
ugly lovely tiny huge round square flat sharp empty full open closed early late near far high low deep
easy simple strange special magic wild tame proud lucky careful curious friendly honest polite
run walk jump hop skip climb crawl swim fly float sink dive dig build make bake cook eat drink taste
smell hear listen look see watch read write draw paint sing dance play laugh smile cry shout whisper
talk speak call ask answer help share give take bring carry hold drop throw catch kick push pull lift
open close turn twist fold cut tear glue tie wash clean sweep wipe brush comb sleep wake rest dream
think know learn teach count spell remember forget find lose hide seek search wait hurry stop start
begin finish win try hope wish like love want need feel touch hug kiss wave clap nod blink yawn sneeze
cough breathe grow shrink melt freeze boil pour stir mix spread plant pick water feed ride drive sail
row paddle skate ski slide swing bounce roll spin shake wiggle stretch bend sit stand kneel lie
above below under over between behind beside inside outside around through across along toward
always never often sometimes maybe again almost already soon later together alone
hello goodbye please thank sorry yes okay hooray
apron arrow badge balloon bamboo banner barrel beach beard bench blanket board bone bridge bubble
cabin canal candle canoe castle cave cellar chain chalk channel chest chimney circle circus cliff coast
collar corner cottage cotton crown crystal cushion diamond dinner dish doll dome dragonfly feather
fence field flag flame fountain frost garage gate gem glass glove grain hall harbor harvest heart hill
hive hole hook hut igloo island jewel jungle kite lake lane lantern lawn lemon library lid log magnet
marble meadow medal meal metal mill mitten nest net ocean orchard palace park party path pearl pebble
pencil picnic pillar pipe pond porch present puddle puzzle quilt rail ribbon ring road room rose sack
saddle sail school shadow shore shovel signal silk sled slope snack spade sponge spring square stair
statue stick storm stream street sunset swamp sword tail temple tent thumb tower toy trail tray tunnel
valley vase village wand wheat whisker wing wire wood wool yard yarn zoo
adventure answer birthday breakfast lunch supper holiday journey lesson market museum picture puzzle
question secret surprise treasure village weather window wonder
jumped walked climbed crawled swam flew floated dived dug built made baked cooked ate drank tasted smelled
heard listened looked saw watched wrote drew painted sang danced played laughed smiled cried shouted
whispered talked spoke called asked answered helped shared gave took brought carried held dropped threw
caught kicked pushed pulled lifted opened closed turned twisted folded tied washed cleaned swept slept
woke rested dreamed thought knew learned taught counted remembered forgot found lost hid searched waited
hurried stopped started began finished won tried hoped wished liked loved wanted needed felt touched
hugged waved clapped nodded blinked yawned sneezed grew melted froze poured stirred mixed planted picked
fed rode drove sailed skated slid swung bounced rolled spun shook wiggled stretched bent sat stood
quickly slowly softly loudly gently happily sadly carefully quietly suddenly finally nearly really
very only just still even also here there everywhere somewhere nowhere inside upstairs downstairs
tables chairs windows doors rivers mountains clouds stars stones rocks shells leaves branches flowers
trees bushes seeds petals apples bananas oranges lemons grapes cherries peaches pears plums berries
cookies cakes pies muffins pancakes eggs books pages stories songs drums bells boxes bags coins cards
pencils crayons buttons ribbons boats trains planes ships trucks wheels hats shoes socks boots gloves
birds ducks geese hens cows horses sheep goats pigs rabbits mice foxes wolves bears deer lions tigers
frogs snakes turtles fish whales bees ants spiders worms snails butterflies friends children babies
kings queens giants dragons fairies pirates robots monsters teachers farmers bakers doctors
acrobat airport alarm album alley alphabet anchor angel ankle antenna apartment apricot aquarium arch
arm armchair army attic avenue avocado axe backpack bakery balcony ballet bandage banjo barn basement
bath battery bay bead beak beam bean bear bedroom bee beehive beetle belly berry bicycle bin binoculars
biscuit blade blizzard block blossom blouse boat bonnet bookcase boulder bow bracelet brain branch brick
bride broom bucket buckle bud buffalo bug bulb bundle bunny bush butter cabbage cage calendar camel
campfire candy cannon cape captain caravan cardboard carriage carrot cart cartoon cashew castle cat
caterpillar cauliflower ceiling cello chalkboard chapter cheek chef cherry chestnut chick chin chip
chord city clam claw clay clock closet clover clown coach coal coat cobweb cocoa collar comb cone
cookie coral cord corn costume cotton couch cow cowboy crab cradle crane crayon cricket crocodile crumb
cub cube cucumber cupboard curtain daisy dandelion deck den desk dew dice dinosaur dirt dock dolphin
donkey donut dot dough dove dragon drawer drawing dream drop drum duckling dune eagle ear easel echo
elbow elephant envelope eraser eye fabric face fan farm fawn ferry fiddle finger fireplace fish fist
flashlight flock flour flute foam fog folder foot forest fork fox frame freezer frog fudge fur gallery
garden giraffe glacier globe glue goal goose gown grape grasshopper gravy guitar gull gum hair hamster
hand handle hare harp hay head hedge helmet hen hill hippo hoof hose hotel house hug hummingbird
icicle inch ink insect iron jacket jeans jelly jet jigsaw judge jug kangaroo kettle key kid kitchen
kitten knee knot koala ladder ladybug lamb lamp lap lawn leg lemon leopard lettuce lighthouse lily
lion lip lizard llama lobster lock locket lollipop machine magnet mailbox mane map mask mat meadow
melon mermaid mice microphone milk mirror mitten mole money moon mop moth mouth muffin mug museum
nail napkin neck necklace needle nest newspaper nose notebook nut oar office onion orange orchestra
ostrich oven owl paddle pail paint pajamas pan panda paper parade parrot peach peacock pear pebble
pelican pen penguin pepper piano pickle pig pillow pilot pin pine pirate plate plum pocket pony
popcorn potato puddle pumpkin puppet puppy pyramid quilt rabbit raccoon radish raft rain raincoat
rake raspberry recipe reindeer rhino rice ring river robin rocket roof rooster rose rug ruler sack
sail salad sandwich sauce saucer scale scarecrow scarf seal seashell sheep shelf shell shield ship
shirt shoe shop shovel shower sink skate skeleton skirt sky skunk sled slipper snack snail snake
snowflake snowman soap sock sofa soup spider spinach sponge spoon squirrel stamp star stick stool
stove straw strawberry submarine sugar suitcase sun sunflower swan sweater swing table tadpole tail
teapot teddy telescope tent tiger toad toast toe tomato tooth toothbrush towel tower tractor train
trampoline tree triangle trophy truck trumpet tulip turkey turtle umbrella unicorn vase vest village
violin volcano waffle wagon walrus wand watch watermelon whale wheel whistle wig windmill window wing
wolf worm yacht yak yo-yo zebra zipper
ancient awake bouncy bumpy busy cheerful chilly chubby creamy crisp crooked cuddly curly dainty dizzy
dusty eager elegant enormous fancy fierce fluffy foggy fragile frosty furry gigantic glad gloomy
glowing golden graceful greedy grumpy hairy handsome helpful hollow humble icy itchy jolly juicy
kindly knobby lively lonely loyal messy mighty misty moody muddy mushy neat nervous nice noisy odd
peaceful perfect pleasant plump polite prickly puffy purple quick rainy rapid ripe rosy rotten rusty
scary shaggy sharp shiny silky silver skinny sleepy slimy slippery sloppy smelly snug soggy sparkling
speedy spiky spotty squeaky sticky stormy striped sturdy sunny super tasty tender thirsty thorny tidy
tiny tricky twinkly velvet warm wavy weary wiggly windy witty wobbly wonderful wooden woolly young zany
""".split())))

#: Things a shopping list holds.
GROCERIES = (
    "apples", "bananas", "oranges", "lemons", "grapes", "cherries", "peaches", "pears", "plums", "melons",
    "carrots", "potatoes", "onions", "tomatoes", "cucumbers", "beans", "peas", "corn", "rice", "bread",
    "butter", "cheese", "milk", "cream", "yogurt", "honey", "jam", "soup", "noodles", "pasta", "flour",
    "sugar", "salt", "eggs", "juice", "tea", "cookies", "crackers", "cereal", "oats", "nuts", "raisins",
    "pumpkins", "lettuce", "cabbage", "spinach", "celery", "peppers", "mushrooms", "strawberries",
    "blueberries", "raspberries", "pineapple", "coconut", "mangoes", "kiwis", "limes", "muffins", "bagels",
    "pancake mix", "maple syrup", "peanut butter", "chocolate", "candles", "napkins", "soap", "sponges",
    "toothpaste", "batteries", "seeds", "dog food", "cat food", "birdseed", "flowers", "balloons",
)
