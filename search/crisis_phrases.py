"""Wordings of danger, part one: phrases (one regular expression each), by kind of danger.

Part two, cue pairs, is search/crisis_cues.py; search/crisis_patterns.py applies both. Every
expression runs on the normalized query (lower case, apostrophes dropped, every other run of
non-letters one space), so "self-harm", "self harm" and "don't"/"dont" need no alternatives.
"""

from __future__ import annotations

# Every pattern runs on the normalized query (`_normalize`): lower case, apostrophes dropped
# ("don't" -> "dont"), every other non-letter-or-digit a single space. So "self-harm", "self harm"
# and "selfharm" differ only by the space, and patterns need no punctuation.
SELF = r"(?:my|him|her|them|your|one|our) ?sel(?:f|ves)"
ANYONE = r"(?:i|im|he|hes|she|shes|they|theyre|we|my \w+|our \w+|someone|somebody)"
BODY = (
    r"(?:arms?|wrists?|legs?|thighs?|skin|stomach|hips?|hands?|chest|face|belly|ankles?|"
    r"shoulders?|body)"
)
MEDS = (
    r"(?:pills|tablets|capsules|meds|medications?|medicines?|painkillers|sleeping pills|"
    r"antidepressants|insulin|tylenol|paracetamol|acetaminophen|ibuprofen|aspirin|xanax|"
    r"valium|oxy\w*|opioids|sertraline|prozac|lithium|amitriptyline|benzos?|tabs|benadryl|"
    r"diphenhydramine|zopiclone|codeine|tramadol|morphine|fentanyl|heroin|ativan|klonopin|"
    r"lorazepam|diazepam|seroquel|quetiapine|trazodone|citalopram|fluoxetine|zoloft|lexapro|"
    r"wellbutrin|ambien|zolpidem|methadone)"
)
# Wordings of danger, one group per kind, so a gap in one kind is easy to see and fill. Each
# was checked against everyday idioms ("this job is killing me", "dying to know", "dead tired",
# "end things with him", "cut ties", "cut back", "hang out", "jump back in"): the lookaheads
# keep those out. When a wording is truly ambiguous, it stays in: a notice shown to someone who
# did not need it costs far less than one missed.
PATTERNS: dict[str, tuple[str, ...]] = {
    "suicidal thoughts": (
        # Feeling a burden, taking up space: a core warning sign, in many wordings.
        r"\b(?:a |such a |being a |the )burden (?:to|on|for) (?:my|everyone|every one|them|him|her|"
        r"the)\b",
        r"\b(?:taking up|waste of|wasting) (?:space|oxygen|air)\b",
        r"\b(?:better|happier|easier) (?:\w+ ){0,3}(?:live|living|be|off|go on) without me\b",
        r"\b(?:pray|hope|wish|want)\w* (?:god|jesus|the lord|someone|something) (?:would |will |"
        r"to )?"
        r"(?:takes?|take) me\b",
        r"\b(?:after|once|when|before) (?:im|i am|i m) (?:gone|dead|not here|not around)\b",
        r"\b(?:before|after) i go$",
        r"\bmy (?:own )?funeral\b",
        r"\b(?:whoever|who ever|the person who|the one who) finds? me\b",
        r"\b(?:deserve|want|wanna|need) (?:to )?(?:hurt|suffer|be in pain|feel pain|bleed|die)\b",
        r"\bhas a plan\b",
        r"\b(?:freeze|starve|bleed|drink) (?:my ?self )?to death\b",
        r"suicid",
        r"\bunalive\b",
        r"\bkms\b",
        r"\bkill(?:s|ing|ed)? " + SELF + r"(?! (?:to (?:meet|get|finish|make|keep|please|impress|"
        r"pay|work|be)|over|trying|working|at work|at the gym|laughing|for (?:them|him|her|you)))",
        r"\b(?:want|wish|pray|hope|need) (?:someone|somebody|god|they|he|she|it) "
        r"(?:to|would|will|could) kill me\b",
        r"\b(?:end|ending|ended|take|taking|took) (?:my|his|her|their|your) (?:own )?li(?:fe|"
        r"ves)\b",
        r"\bend (?:this|the) (?:pain|suffering)\b",
        r"\bend (?:it|it all|things|everything)\b(?! (?:with|between|on|off|for|nicely|"
        r"kindly|well|amicably|respectfully|properly|peacefully|early|quickly|now with))",
        r"\b(?:want|wants|wanted|wanna|going|gonna|plan\w*|ready|wish\w*|deserve|prefer|like|"
        r"rather|longing|hope|hoping|just) (?:to )?(?:just )?(?:die|disappear forever)\b(?! (?:of "
        r"(?:boredom|embarrassment|laughter|shame|curiosity|thirst|hunger|envy|jealousy|cuteness)|"
        r"laughing|trying|than|for|inside))",
        r"\b(?:better off|rather be|should be|wish i (?:was|were)|want to be|wanna be|"
        r"would be|could be|id be) dead\b(?! (?:tired|serious|set|wrong|last|center|ahead|end))",
        r"\b(?:dont|do not|didnt|no longer|not|never) (?:want\w*|wanna|wish\w*|care) (?:to )?"
        r"(?:live|be alive|exist|wake up|be here|be around|go on|continue|keep living)\b",
        r"\b(?:sleep|go to sleep|fall asleep) and (?:never|not) wake up\b",
        r"\b(?:not|never) wake up (?:tomorrow|in the morning|again|ever)\b",
        r"\b(?:go to )?sleep forever\b",
        r"\b(?:stop|stopped|stopping) (?:existing|being alive|living)\b",
        r"\bnot (?:existing|exist|being alive|being here|living) any ?more\b",
        r"\bpoint (?:of|in) (?:waking up|living|being alive|going on|carrying on|staying alive|"
        r"getting through|being here|trying any ?more|anything any ?more)\b",
        r"\b(?:only thing|all thats|what is|whats|nothing) keeping me (?:here|alive|going|"
        r"around)\b",
        r"\b(?:picked|chosen|chose|decided on|figured out|worked out) (?:how|the method|a method)\b"
        r"(?! to (?:tell|say|ask|talk|study|cook|apply|pay|handle|deal))",
        r"\b(?:who|whoever|the ones? who|the person who) (?:will |would )?finds? (?:me|them|him|"
        r"her|"
        r"my body)\b",
        r"\bbefore i go\b(?! (?:to|on|into|back|out|home|away|abroad|in|for|there|off|shopping|"
        r"completely|crazy|insane|mad|nuts|"
        r"travell?ing))",
        r"\b(?:dont|cant|do not) see (?:my ?self )?(?:being |still )?(?:alive|here|around) "
        r"(?:next|in|by|much)\b",
        r"\bthinking about (?:killing|hurting|stabbing|shooting|strangling)\b",
        r"\b(?:wish|hope|pray|want)\w* (?:i |to )?(?:would |could )?(?:never|not) wake up\b",
        r"\bno (?:reason|point|will|purpose|use) (?:to |in |for |of )?(?:live|living|going on|"
        r"carrying on|being alive|life|staying alive|existing|keep living|keep going|go on|"
        r"carry on)\b",
        r"\b(?:dont|do not) (?:want|wanna) (?:to )?b here any ?more\b",
        r"\bmake it look like an accident\b",
        r"\bstop (?:my|his|her) life\b",
        r"\bmake (?:it|everything) (?:all )?stop (?:for good|forever|permanently)\b",
        r"\bmake it all stop\b",
        r"\b(?:nobody|no one|noone) (?:will |would |can |could )?(?:ever )?finds? me\b",
        r"\b(?:going to|gonna|will|plan to|planning to) do it (?:tonight|tomorrow|this weekend|"
        r"today|soon)\b",
        r"\b(?:never|not) see (?:him|her|them|me|you|us) alive again\b",
        r"\beverything (?:set up|ready|planned|sorted) for tonight\b(?! s\b)",
        r"\bset everything up for tonight\b(?! s\b)",
        r"\bnot worth (?:living|it anymore|being alive)\b",
        r"\b(?:tired|sick) of (?:living|being alive|life|existing)\b",
        r"\bdone (?:with life|with living|trying to live|being alive)\b",
        r"\bcant (?:go on|take (?:it|this|any of this) any ?more|keep going|do this any ?more|"
        r"live like this|keep living)\b",
        r"\b(?:give|giving|gave) up on (?:life|living)\b",
        r"\b(?:better off|happier|relieved|fine|better) without me\b",
        r"\bcope (?:\w+ )?without me\b",
        r"\b(?:nobody|no one|noone) (?:would|will|is going to) (?:even )?(?:miss|care|notice)\b",
        r"\bif i (?:was|were|am|died|disappeared) (?:gone|dead|not here|not around|not alive)\b",
        r"\bif i (?:vanished|disappeared|died)\b",
        r"\bif i (?:just )?(?:wasnt|werent) (?:here|around|alive)\b",
        r"\b(?:rather not|dont want to|do not want to) (?:be )?(?:exist|born)\b",
        r"\bwish i (?:was|were|had) never (?:been )?born\b",
        r"\bnot (?:be|being) (?:here|alive|around) (?:any ?more|much longer|for long)\b",
        r"\bwont be (?:here|alive|around)\b(?:$| (?:any ?more|much longer|soon|after|to see|"
        r"for long|by then|tomorrow|for (?:them|you|my)))",
        r"\b(?:wont|will not|not) be a burden (?:much longer|for (?:much )?longer|any ?more|"
        r"soon)\b",
        r"\bsee you (?:all )?on the other side\b",
        r"\bsorry i (?:couldnt|cant|wasnt able to) (?:stay|hold on|keep going|be stronger)\b",
        r"\b(?:nobody|no one|noone) (?:will|would|can|could) (?:ever )?find me\b",
    ),
    "methods and means": (
        r"\b(?:painless|painlessly|quick|quickest|easiest|easy|best|surest|fastest|least painful|"
        r"effective|sure|simplest|cleanest) (?:way|ways|method|methods) (?:to|of) "
        r"(?:die|dying|kill|end it|go|do it)\b",
        r"\b(?:ways?|methods?) (?:to|of) (?:die|dying|suicide)\b",
        r"\bhow (?:to|do i|can i|could i|would i|should i) (?:die|end it)\b",
        r"\bin front of (?:a|the) (?:train|bus|truck|car|lorry|subway)\b",
        r"\bjump(?:s|ing|ed)? (?:off|from|in front|out (?:of )?(?:a|the|my) (?:window|building|"
        r"car|plane)|to (?:my|his|her|their) death)\b",
        r"\bhang(?:s|ing|ed)? " + SELF,
        r"\bhow long does (?:hanging|drowning|bleeding out) take\b",
        r"\bhow long (?:does it|would it|will it) take (?:\w+ )?to (?:drown|bleed out|die|pass out|"
        r"lose consciousness|suffocate|freeze|stop breathing)\b",
        r"\bcarv\w* .{0,25}\b(?:into|on) (?:my|his|her|their) " + BODY + r"\b",
        r"\b(?:noose|ligature)s?\b",
        r"\bslit\w* (?:my |his |her |their )?(?:wrists?|throat)\b",
        r"\bbleed(?:ing)? out\b(?! (?:money|cash|of))",
        r"\b(?:drown|drowning|shoot|shooting|shot|poison|poisoning|starve|starving|stab|stabbing|"
        r"suffocate|suffocating|gas|gassing) " + SELF + r"(?! in the foot)",
        r"\bgun to (?:my|his|her|their) head\b",
        r"\b(?:survive|surviving) (?:the|a) fall\b",
        r"\b(?:how high|how far|how deep) .{0,40}\b(?:die|dying|fatal|survive|kill)\b",
    ),
    "doses": (
        r"\b(?:took|swallowed|taken|downed|had|take|swallow) (?:like |about |around |maybe |over )?"
        r"\d+ (?:\w+ )?" + MEDS + r"\b",
        r"\b" + MEDS + r"\b.{0,40}\bon purpose\b",
        r"\bon purpose\b.{0,40}\b" + MEDS + r"\b",
        r"\boverdos|\bod(?:ing|d|ed)? on\b",
        r"\b(?:lethal|fatal|deadly|toxic|killing) (?:dose|doses|amount|amounts|quantity|level|"
        r"number)\b",
        r"\bhow (?:many|much) .{0,60}\b(?:kill|die|dying|fatal|lethal|deadly|not wake up|"
        r"never wake "
        r"up|stop (?:my|your|a|his|her) heart)\b",
        r"\b(?:enough|too many|too much) .{0,40}\b(?:to (?:die|kill|not wake up|never wake up|stop "
        r"(?:my|your|a) heart)|to be fatal)\b",
        r"\b(?:swallow\w*|took|take|taking|ate|downed) (?:a |an |the )?(?:whole |entire |full )?"
        r"(?:bottle|box|pack|packet|handful|bunch|lot|load|strip|blister)s? of (?:\w+ ){0,2}"
        + MEDS,
        r"\b(?:swallow\w*|downed) (?:a |an |the )?(?:whole|entire|full) (?:bottle|box|pack|packet)",
        r"\b(?:swallow\w*|took|take|taking|downed) (?:all|all of) (?:my|his|her|their|the) "
        r"(?:\w+ )?" + MEDS,
        r"\b"
        + MEDS
        + r" (?:with|and) (?:a bottle of |the )?(?:vodka|alcohol|whiskey|wine|booze)\b",
    ),
    "plans and preparations": (
        r"\b(?:sav|collect|stockpil|hoard|stash)\w* (?:up )?(?:all )?(?:of )?(?:my |her |"
        r"his |their |the |moms |mums |dads )?(?:\w+ )?" + MEDS + r"\b",
        r"\b(?:bought|buying|buy|got|have|has|found|keep|kept|hid|hidden|hiding) (?:a |the |some )?"
        r"(?:rope|noose|gun|pistol|rifle|firearm|razor|razors|blades?|charcoal)\b",
        r"\b(?:giving|give|gave|given) (?:away )?(?:all )?(?:of )?(?:my|her|his|their) "
        r"(?:things|stuff|belongings|possessions)(?: away)?\b",
        r"\b(?:giving|gave|give) away (?:all )?(?:of )?(?:my|her|his|their) (?:things|stuff|"
        r"belongings|possessions|pets?|dog|cat|guitar|favou?rite things)\b",
        r"\bso (?:they|people|you|everyone|my \w+) (?:will )?remember me\b",
        r"\b(?:decided|know|picked|chosen|chose|planned|worked out) (?:how and when|"
        r"when and how)\b",
        r"\b(?:note|letter)s?\b.{0,40}\bto find\b",
        r"\b(?:buy|get|getting|buying|purchase|purchasing) (?:a )?(?:gun|pistol|firearm|handgun)\b",
        r"\bwont (?:need|be needing) (?:it|them|anything|any of (?:it|this|them)) "
        r"(?:after|any ?more|soon|much longer)\b",
        r"\b(?:affairs in order|wrote my will|writing my will|make my will)\b",
        r"\bplan(?:s|ned|ning)? (?:to|for) (?:end|kill|die|do it|take)\b",
        r"\btonight is the night\b",
    ),
    "goodbyes": (
        r"\b(?:goodbye|farewell|suicide|final) (?:letters?|notes?|messages?|posts?|texts?|"
        r"videos?)\b(?! (?:to|for) (?:my|a|the) (?:therapist|counselor|counsellor|team|coworkers|"
        r"colleagues|class|students))",
        r"\bgoodbye (?:everyone|world|all|forever|cruel)\b",
        r"\b(?:disappear\w*|vanish\w*|go away|going away|went away|be gone|gone) (?:forever|"
        r"for good|"
        r"for ever|permanently)\b",
        r"\bby the time you read this\b",
        r"\b(?:last|final) time (?:you(?:ll)?|anyone(?:ll)?) (?:will )?(?:hear|"
        r"see)s? (?:from )?me\b",
        r"\b(?:this is|its) (?:my|the) (?:last|final) (?:post|message|goodbye|night)\b",
        r"\bwont see (?:them|you|anyone|my \w+) again\b",
    ),
    "imminent danger": (
        r"\b(?:walk|walking|wading|wade|swim|swimming|swam) (?:out )?(?:in)?to the (?:water|sea|"
        r"lake|"
        r"river|ocean|waves)\b",
        r"\b(?:legs?|foot|feet) over the (?:railing|rail|edge|barrier|ledge|side)\b",
        r"\b(?:on|off) the (?:roof|ledge|bridge) and (?:wont|will not|refuses to) come (?:down|"
        r"back)\b",
        r"\b(?:standing|sitting|stood|sat|im|i am|up|out|on top|climbing|climbed|walking|"
        r"waiting) (?:on|at|onto|along|near|by|to) (?:the |a |my |this )?(?:roof|rooftop|ledge|"
        r"bridge|tracks|train tracks|railway|cliff|balcony|overpass)\b",
        r"\bedge of (?:a|the|my) (?:roof|bridge|cliff|building|platform|balcony|ledge)\b",
        r"\bat the top of (?:the|a|my) (?:building|parking|bridge|cliff|tower|car park)\b",
        r"\bengine running\b",
        r"\b(?:i am|im|we are|were) (?:in|not) (?:danger|safe)\b(?! of)",
        r"\b(?:afraid|scared|fear|fearing|terrified) for my (?:life|safety)\b",
        r"\b(?:afraid|scared|terrified|frightened) (?:to go|of going) (?:back )?home\b",
        r"\bunsafe (?:at|in my|in our) (?:home|house)\b",
        r"\blooking down\b.{0,40}\b(?:jump|fall|edge|ledge|roof|bridge)\b",
        r"\b(?:jump|fall|edge|ledge|roof|bridge)\b.{0,40}\blooking down\b",
    ),
    "self-harm": (
        r"\bself ?(?:harm|injur|mutilat)",
        r"\b(?:hurt|hurting|harm|harming|injure|injuring|cut|cutting|burn|burning|hit|hitting|"
        r"punch|punching|scratch|scratching|bruise|bruising|choke|choking|strangle|strangling|"
        r"bite|biting|starve|starving) " + SELF + r"\b(?! (?:off|out|short|"
        r"some slack|a break|loose|free))",
        r"\b(?:cut|cuts|cutting|slice|slicing|sliced|burn|burns|burned|burnt|burning|"
        r"carve|carved|carving) (?:on |into )?(?:my|his|her|their) " + BODY + r"\b",
        r"\b(?:cuts|scars|marks|wounds|burns|bruises|scratches) on (?:my|his|her|their) (?:\w+ )?"
        + BODY,
        r"\b(?:cut|cuts|cutting) (?:too )?deep\b|\bdeep cuts?\b",
        r"\b(?:wont|will not|doesnt|cant|wouldnt) stop bleeding\b",
        r"\b(?:knife|blade|razor|gun|pills|rope) (?:is )?in my hand\b",
        r"\b(?:standing|lying|laying|sitting|waiting) (?:in|on) the (?:middle of the )?(?:road|"
        r"motorway|highway|hard shoulder|freeway)\b",
        r"\bswallow\w* (?:\w+ )?(?:pills|tablets)\b",
        r"\bjust took (?:the|all the|my|a lot of|lots of) pills\b",
        r"\b(?:hide|hiding|hid|cover|covering|see|sees|notice|notices) (?:the |my |her |his )?"
        r"(?:cuts|scars|marks|wounds|burns|bruises)\b",
        r"\bcutting (?:again|deeper|more)\b",
        r"\burges? to (?:cut|hurt|harm|burn)\b",
        # "Cutting" alone is how many people name self-harm ("how do I stop cutting"); the
        # look-behinds and lookahead keep its everyday senses out.
        r"(?<!cost )(?<!hair )(?<!paper )(?<!wood )(?<!coupon )(?<!job )(?<!budget )\bcutting\b"
        r"(?! (?:corners|back|down|ties|out|off|costs?|class|classes|school|in line|it close|edge|"
        r"board|carbs|sugar|the|my hair|hair|grass|wood|paper|remarks?|words|sense|comments?|"
        r"humou?r|tongue|wit|cake|a deal|contact|people|someone|him|her|them|me|it|loose|through|"
        r"up|in|budgets?|expenses|spending|others|friends|family))",
        r"\brelaps\w* .{0,50}\b(?:cut|cutting|harm|razor|blade|burn|burning|hurting)\b",
        r"\b(?:used|use|using|with|took|grab\w*) (?:a |the |my |her |his )?(?:razor|blade)s?\b",
        r"\brazor blades?\b",
        r"\b(?:till|until|til|to) (?:it|they|i|its|theyre|my \w+) (?:bleed|bleeds|bled|is bleeding|"
        r"are bleeding|raw)\b",
        r"\bmake (?:my ?self|me|it) bleed\b",
        r"\b(?:bang|banging|banged|hit|hitting|smash|smashing) my head (?:against|on|into)\b",
        r"\b(?:want|need|wanted|needed) to feel (?:physical )?pain\b",
        r"\b(?:open|opening|reopen|reopening|pick|picking) (?:up )?(?:the |my )?(?:wounds|scabs|"
        r"cuts)\b",
        r"\b(?:digging|dig|dug) my nails into\b",
    ),
    "third parties": (
        r"\b" + ANYONE + r" (?:said|says|told me|texted|posted|keeps saying|wrote) (?:that )?"
        r"(?:he|she|they|hed|shed|theyd|im|i)(?: would| will| wants| want| is going| are going)?"
        r"(?: to)? (?:be better off dead|die|kill|end it|not be here|wont be here|cant do this)",
        r"\b(?:he|she|they|my \w+) (?:wants|want|wanted|has wanted) to die\b",
        r"\btalk\w* about (?:killing|shooting|hanging|hurting|ending) (?:him|her|them|my)",
    ),
    "violence and threats": (
        r"\b(?:locked|trapped|keeps?|kept|locks|holding|held) (?:me|us|me and (?:the|my) \w+) "
        r"(?:in|inside|somewhere|at home|from leaving)\b",
        r"\b(?:wont|will not|doesnt|does not|dont) let (?:me|us) (?:leave|go out|out|call|"
        r"see anyone)\b",
        r"\b(?:breaking|broke|kicking|banging) (?:down |in )?(?:the|my|our) door\b",
        r"\b(?:took|takes|take|taken|hid|hides) (?:away )?(?:my|our) (?:passport|phone|keys|money|"
        r"documents|car keys)\b",
        r"\b(?:cant|cannot) get out\b",
        r"\bregret leaving (?:him|her|them)\b",
        r"\b(?:going|gonna|threaten\w*|trying|tried|try|wants?|plans?|promised|swore|said (?:he|"
        r"she|"
        r"they)(?:d| would| will| is going| was going)?)(?: to)? (?:kill|hurt|shoot|stab|strangle|"
        r"choke|beat|murder|rape|harm) (?:me|us|my (?:kids|children|son|daughter|baby|family|mom|"
        r"mum|dad|sister|brother|wife|husband)|the (?:kids|children|baby))\b"
        r"(?! (?:when|if) (?:he|she|they) (?:finds?|sees?|hears?|notices?|learns?))",
        r"\b(?:kill|hurt|stab|shoot) (?:me|us|the kids|my kids|the children) if i\b",
        r"\b(?:choked|strangled|strangling|choking|smothered) me\b",
        r"\b(?:pushed|shoved|threw|dragged|kicked) me (?:down|into|against|off|onto|"
        r"to the (?:ground|"
        r"floor)|over|out of (?:the|a) (?:car|window))\b",
        r"\bthreaten(?:s|ed|ing)? (?:me|us|my (?:kids|children|son|daughter|family|life|baby))\b",
        r"\bthreaten\w* (?:to )?(?:burn|kill|hurt|shoot|stab|poison|drown|run (?:me|us) over|beat|"
        r"strangle|choke)\b",
        r"\bhands? (?:around|on) my (?:neck|throat)\b",
        r"\b(?:put|held|holding|pointed|pointing|pulled) (?:a |the |his |her )?(?:gun|knife|"
        r"weapon)\b",
        r"\b(?:has|had|with|holding|carrying|got) (?:a |the )?(?:gun|knife|weapon)\b",
        r"\b(?:he|she|they|husband|wife|partner|boyfriend|girlfriend|ex|dad|father|mom|mother|"
        r"stepdad|stepfather|stepmom|brother|sister|parents?|uncle|someone|somebody|man|guy) "
        r"(?:\w+ )?(?:hits|hit|beats|beat|punches|punched|kicks|kicked|slaps|slapped|chokes|"
        r"choked|strangles|strangled|attacked|attacks|raped|rapes) (?:me|us|my (?:kids|children|"
        r"son|daughter|mom|mum|mother|sister|brother|baby))\b(?! out)",
        r"\b(?:followed|following|stalking|stalked) me (?:home|everywhere|to)\b",
    ),
}
