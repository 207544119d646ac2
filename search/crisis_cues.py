"""Wordings of danger, part two: cue pairs, by kind of danger.

A cue pair fires when every expression of its tuple occurs somewhere in the normalized query,
in any order: "how many" with a medicine, a rope with "neck" or "woods", a bridge with "right
now". Pairs generalize past the phrasings they were written from, which is what a held-out test
asks of them. Part one, phrases, is search/crisis_phrases.py.
"""

from __future__ import annotations

import re

from search.crisis_phrases import BODY, MEDS

_MEDS_ANY = MEDS + r"|\bpill\b|\btablet\b|\bdose\b|\bdoses\b"
_DIE = (
    r"\b(?:die(?! (?:for|inside|of \w+|laughing|trying|than))|kill (?:my ?self|me)|end it|"
    r"end my life|not wake up|never wake up|stop breathing|"
    r"be gone|go to sleep forever|sleep forever|not survive|wont survive|dont survive)\b"
)
_NOW = r"\b(?:right now|now|tonight|at the moment|as we speak|as i type|as i write)\b"
_HIGH = (
    r"\b(?:roofs?|rooftop|ledge|bridges?|tracks|railway|rails|cliffs?|balcony|overpass|"
    r"parking garage|"
    r"car park|top floor|windowsill|window sill|tower|skyscraper|platform)\b"
)
_PERSON = (
    r"\b(?:he|she|they|him|her|them|partner|husband|wife|boyfriend|girlfriend|bf|gf|ex|dad|"
    r"father|stepdad|stepfather|mom|mum|mother|stepmom|brother|sister|uncle|son|someone|"
    r"somebody|man|guy|stranger|neighbou?r)\b"
)
_SH_CUE = (
    r"\b(?:on purpose|until|till|til|to feel|again|relaps\w*|hide|hiding|cover|covering|"
    r"sleeves|nobody sees|no one sees|deep|deeper|punish\w*|deserve|only thing|urges?|cant stop|"
    r"keep|kept|every time|whenever|when im (?:upset|sad|angry|stressed|anxious))\b"
)
_HARM_VERB = (
    r"\b(?:cut|cuts|cutting|slice|sliced|slicing|carve|carved|carving|scratch|scratched|"
    r"scratches|scratching|burn|burned|burnt|burning|bleed|bleeding|bled|blood|scars?|marks|"
    r"wounds?|bruises?|picking|picked|digging|dig|dug|raw|snap|snapping|hitting|punching)\b"
)
# Cue pairs: each tuple fires when all of its expressions occur in the query.
CUE_PAIRS: dict[str, tuple[tuple[str, ...], ...]] = {
    "methods and means": (
        (
            r"\b(?:quicker|faster|less painful|hurts less|more painless|more certain)\b",
            r"\b(?:hanging|pills|jumping|drowning|gun|bleeding|overdose|train)\b",
        ),
        (
            _HIGH,
            r"\b(?:high enough|how high|jump\w*|step\w* off|survive|fall|falling|drop|looking down|"
            r"end it|die|kill)\b",
        ),
        (
            r"\b(?:painless\w*|quickest|quick|easiest|fastest|surest|least painful|peaceful\w*|"
            r"without pain|guaranteed|definitely work|would it work|most effective|how to|how do i|"
            r"how can i|how would i|how could i|which way|what way|best way)\b",
            _DIE,
        ),
        (
            r"\b(?:rope|noose|belt|cord|cable|ligature|scarf|knot)\b",
            r"\b(?:neck|hang\w*|beam|ceiling|closet door|strong enough|woods|tree|garage|barn|"
            r"weight|door handle|tie it|tied it)\b",
        ),
        (
            r"\b(?:gun|pistol|rifle|firearm|shotgun|bullets?|revolver)\b",
            r"\b(?:myself|himself|herself|themselves|my head|my mouth|loaded|use it on|end it|die|"
            r"kill|pull the trigger|a plan|plan)\b",
        ),
        (
            r"\b(?:wrists?|veins?|arter(?:y|ies))\b",
            r"\b(?:cut|cutting|slit|slice|open|deep|bleed|bleeding|vertical|razor|knife|blade)\b",
        ),
        (
            r"\b(?:bleach|ammonia|antifreeze|rat poison|poison|weed killer|pesticide|cyanide|"
            r"carbon monoxide|"
            r"helium|charcoal|exhaust|fumes)\b",
            r"\b(?:drink|swallow|mix\w*|die|kill|enough|how much|how long|in a person|breathe|"
            r"inhale|"
            r"on purpose|myself|end it|hose|locked|smell\w*|burning)\b",
        ),
        (
            r"\b(?:step|stepping|walk|walking|run|running|jump|jumping|lie|lying|lay|drive|"
            r"driving|swerve|crash)\w*\b",
            r"\b(?:into|onto|in ?to|in front of|off) (?:the |a |oncoming )?(?:traffic|tracks|"
            r"highway|motorway|train|truck|lorry|tree|wall|cliff|river|lake|sea|ocean)\b",
        ),
        (r"\b(?:drown|drowning)\b", r"\b(?:myself|lake|river|sea|ocean|water|bath|tub)\b"),
    ),
    "doses": (
        (
            _MEDS_ANY,
            r"\b(?:how many|how much|enough|lethal|fatal|deadly|too many|too much|"
            r"whole (?:bottle|box|pack|packet|strip)|handful|full (?:bottle|box|pack)|\d+|"
            r"saved|saving|collect\w*|stockpil\w*|hoard\w*|stash\w*)\b",
            r"\b(?:die|dying|kill|"
            r"lethal|fatal|deadly|not wake|never wake|stop my heart|overdos\w*|enough|saved|"
            r"survive|come back from|"
            r"saving|collect\w*|stockpil\w*|hoard\w*|stash\w*|end it|be gone|whole|all of them)\b",
        ),
    ),
    "plans and preparations": (
        (
            r"\b(?:wont|will not|dont|wouldnt) (?:need|be needing|be using)\b",
            r"\b(?:gave|give|giving|given|sold|selling|rehom\w*|donat\w*)\b",
        ),
        (
            r"\b(?:wrote|writing|write|written|left|leaving) (?:a |the |my )?(?:letters?|notes?)\b",
            r"\b(?:when|tonight|go through|last|goodbye|sorry|after|gone|forgive|"
            r"blame|ready|time|picked|date|dog|cat|take care)\b",
        ),
        (
            r"\bafter tonight\b",
            r"\b(?:nobody|no one|anyone|wont|gone|debts?|sorry|goodbye|forgive|cancel\w*|stuck|"
            r"never)\b",
        ),
        (
            r"\b(?:paid off|pay off|paying off|settled|closed|cancel\w*|delet\w*) (?:all )?(?:my|"
            r"of my) "
            r"(?:debts?|accounts?|socials|phone|contracts?|bills)\b",
            r"\b(?:paid off|pay off|closed|cancel\w*|delet\w*|ready|nobody|no one|after|before i|"
            r"tonight|stuck)\b.*\b(?:paid off|pay off|closed|cancel\w*|delet\w*|ready|nobody|"
            r"no one|"
            r"after|before i|tonight|stuck)\b",
        ),
        (
            r"\bgo through with it\b",
            r"\b(?:tonight|tomorrow|this weekend|letters?|notes?|date|"
            r"pills|rope|goodbye|ready|decide|when|find|found|family|people|how)\b",
        ),
    ),
    "goodbyes": (
        (r"\bthis is it\b", r"\b(?:thank\w*|goodbye|sorry|love you|forgive|bye)\b"),
        (
            r"\bnever come back\b|\bnot come back\b",
            r"\b(?:disappear\w*|vanish\w*|woods|walk\w*|"
            r"leave|leaving|go away|sea|water|forest)\b",
        ),
        (r"\bsign\w* off\b", r"\b(?:permanently|forever|for good|for ever|for the last time)\b"),
        (r"\b" + MEDS + r"\b", r"\b(?:said sorry|sorry|goodbye|love you|forgive me)\b"),
        (r"\bafter i die\b", r"\b(?:this weekend|tonight|tomorrow|soon|planning|next week)\b"),
        (
            r"\b(?:last|final) (?:post|message|words|thing|time|goodbye)\b",
            r"\b(?:ever|goodbye|sorry|thank you all|thanks everyone|love you all|forgive me|"
            r"wont|after this|any ?more|hear from me|see me|know|knowing|figur\w*|realiz\w*|hug\w*|"
            r"tell)\b",
        ),
        (
            r"\b(?:deal with|worry about|see|hear from|put up with|bother with) me "
            r"(?:again|any ?more|ever again)\b",
            r"\b(?:nobody|no one|noone|never|wont|after|"
            r"tonight|forever|anyone)\b",
        ),
        (
            r"\bsorry for everything\b",
            r"\b(?:goodbye|last|love you|forgive|gone|wont|never|"
            r"again|look after|take care)\b",
        ),
        (
            r"\b(?:look after|take care of|feed) (?:my|the) (?:cat|dog|pets?|kids|children|"
            r"plants)\b",
            r"\b(?:sorry|goodbye|last|gone|wont|never|forgive|after i)\b",
        ),
        (
            r"\btell (?:my |the )?\w+ (?:that )?i (?:loved|love) (?:them|him|her|you)\b",
            r"\b(?:wont|never|again|goodbye|sorry|forgive|after|gone|last|any ?more|tonight|"
            r"when i)\b",
        ),
    ),
    "imminent danger": (
        (_HIGH, _NOW),
        (
            _HIGH,
            r"\b(?:standing|sitting|sat|stood|up here|out here|looking down|edge|below|"
            r"the water|cold|shaking|nobody knows|no one knows|next train|let go|hold on|"
            r"dont trust myself)\b",
        ),
        (
            r"\b(?:car|garage)\b",
            r"\b(?:engine running|engine on|closed garage|exhaust|hose|fumes|carbon monoxide)\b",
        ),
        (
            r"\b(?:hiding|hid|locked (?:myself|us|me|the door)) (?:in|inside) (?:the|my|a|our) "
            r"(?:bathroom|closet|room|bedroom|car|basement)\b",
            _PERSON,
        ),
        (
            r"\blocked (?:my|him|her|them) ?sel\w* in\b",
            r"\b(?:garage|car|engine|knife|razor|blade|rope|belt|gun)\b|" + MEDS,
        ),
        (
            r"\b(?:break|breaking|broke|get|getting|trying to get) in(?:to)? (?:my|our|the) "
            r"(?:house|home|flat|apartment|room|door)\b",
            _NOW,
        ),
    ),
    "self-harm": (
        (r"\b" + BODY + r"\b", _HARM_VERB, _SH_CUE),
        (
            r"\b" + BODY + r"\b",
            r"\b(?:razors?|blades?|lighter|cigarettes?|rubber band|"
            r"scissors|sharpener|compass|broken glass|hot (?:spoon|metal|knife|iron|water))\b",
        ),
        (
            r"\bpunish\w* (?:my ?self|me)\b",
            r"\b(?:eat|eaten|eating|food|starv\w*|cut|cutting|burn\w*|hurt\w*|pain|hit\w*|"
            r"on purpose|bleed\w*|body)\b",
        ),
        (
            r"\b(?:hide|hiding|cover|covering|conceal\w*|explain|excuse)\b",
            r"\b(?:cuts|scars|marks|wounds|burns|bruises|scratches)\b",
        ),
        (r"\bsh\b", r"\b(?:relaps\w*|clean|urges?|cut|cutting|scars?|days|months|weeks)\b"),
        # A relapse after a clean streak, of self-harm or of a drug: a moment of risk either way.
        (r"\brelaps\w*\b", r"\bclean\b"),
        (
            r"\brelaps\w*\b",
            r"\b(?:clean|months|days|weeks|streak)\b",
            r"\b(?:cut|cutting|razor|blade|burn|burning|harm|hurt|hurting|scratch\w*|bleed\w*)\b",
        ),
        (
            r"\b(?:hit|hitting|punch|punching|bang|banging|slam|slamming|smash|smashing)\b",
            r"\b(?:myself|my (?:own )?head|my face|my legs|my arms|my body)\b",
            r"\b(?:until|till|wall|hard|bruise\w*|hurts?|pain|every time|whenever|punish\w*|"
            r"bleed\w*|stars)\b",
        ),
        (
            r"\b(?:tie|tying|tied|wrap|wrapping|wrapped)\b",
            r"\b(?:around|round) my (?:neck|throat)\b",
        ),
    ),
    "third parties": (
        (
            r"\b(?:said|says|told me|texted|posted|messaged|wrote|keeps saying|keeps talking)\b",
            r"\b(?:goodbye|tonight is the night|wont be here|wont be around|better off dead|"
            r"wants? to die|cant do this any ?more|end it|ending it|not be here|no reason to live|"
            r"kill (?:him|her|them)sel\w+)\b",
        ),
    ),
    "violence and threats": (
        (
            r"\bif (?:i|we) (?:tell|go to the police|call the police|report|leave|try to leave)\b",
            r"\b(?:hurt|kill|worse|regret|sorry|take the (?:kids|children))\b",
        ),
        (
            r"\b(?:kill|murder|shoot|stab|strangle|choke|hurt|beat|burn|harm)\b",
            r"\b(?:kill|murder|shoot|stab|strangle|choke|hurt|beat|burn|harm) (?:me|us|the kids|"
            r"my kids|the children|my children|the baby|my baby|my son|my daughter|my family|"
            r"my mom|my mum|my dad)\b",
            r"\b(?:threat\w*|said|says|told me|swore|promised|next time|keeps saying|if i)\b",
        ),
        (
            r"\b(?:gun|knife|weapon|machete|axe|baseball bat)\b",
            _PERSON,
            r"\b(?:has|had|with|holding|pointed|pointing|waving|pulled|grabbed|carrying|outside|"
            r"threat\w*|drunk|angry|raging|saw|in his|in her)\b",
        ),
        (
            r"\b(?:followed|following|stalking|stalked|watching) me\b",
            r"\b(?:home|house|door|window|outside|every night|every day|car|work|school|again|"
            r"scared|afraid)\b",
        ),
    ),
}
# An idiom of parents and bosses: "my mom will kill me when she finds out". Such a query is not
# a threat; a threat rule ignores the part of the query after a kill word it covers.
IDIOM_THREAT = re.compile(
    # Parents (together), bosses, teachers and coaches "will kill me" in the everyday sense;
    # a partner or one parent saying it stays a threat unless the context says otherwise.
    r"\b(?:parents|folks|boss|teacher|coach|manager|professor|prof|supervisor)s? (?:is |are |will |"
    r"would |gonna |is gonna |are gonna |going to |is going to |are going to |literally )*"
    r"(?:kill|murder) (?:me|us)\b"
    r"|\b(?:kill|murder) (?:me|us)\b(?: (?:lol|lmao|haha|jk)\b|(?: \w+){0,2} (?:when|if|"
    r"once) (?:he|she|they|my \w+) "
    r"(?:finds?|see|sees|hear|hears|learns?|notices?|catch(?:es)?|gets?|realizes?)\b"
    r"| (?:if|when) (?:i|we) (?:fail|lose|am late|are late|miss|forget|break|dent|crash|get a)\b"
    r"| for (?:denting|scratching|crashing|breaking|forgetting|being late|failing|missing|"
    r"losing|spending|eating|skipping|wrecking)\b"
    r"| with (?:laps|kindness|work|homework|chores|questions|boredom|drills|exercises)\b)"
)
# Friendly requests that share a verb with threats: "shoot me a text".
IDIOM_REQUEST = re.compile(
    r"\bshoot (?:me|us) (?:a |an )?(?:text|message|line|email|dm|note|call)\b"
)
