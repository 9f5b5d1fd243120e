"""Stopwords for comment themes: the function words of English, German, French, Spanish,
Portuguese, Italian and Dutch (casefolded), and Han characters that are particles or pronouns
in Chinese and Japanese. Short on purpose: words that carry a complaint ('slow', 'langsam',
'erreichbar') must stay."""

from __future__ import annotations

_LISTS = {
    "en": """a about after again all also am an and any are as at be because been before being
        both but by can can't could did didn't do does doesn't doing don't down during each
        even ever every few for from further get gets got had has have having he her here hers
        him his how i i'd i'm i've if in into is isn't it it's its itself just let me more most
        much my no nor not now of off on once one only or other our ours out over own please
        quite really same she should so some such than that that's the their theirs them then
        there these they they're this those through to too under until up us very was wasn't
        we were what when where which while who whom why will with would you your yours""",
    "de": """aber alle allem allen aller alles als also am an auch auf aus bei beim bin bis
        bist da damit dann das dass dem den denn der des dich die dir doch dort du durch ein
        eine einem einen einer eines er es etwas euch euer für ganz hab habe haben hat hatte
        hier ich ihm ihn ihnen ihr im immer in ist ja jetzt kann man mein meine mich mir mit
        nach nicht noch nun nur ob oder ohne schon sehr sein seine sich sie sind so uns und unser
        vom von vor war waren was weil wenn wer wie wieder wir wird wo zu zum zur über""",
    "fr": """à au aux avec ce ces cette dans de des du elle elles en est et être été il ils je
        la le les leur lui ma mais me même mes moi mon ne nos notre nous on ont ou où par pas
        pour qu que qui sa se ses si son sont sur ta te tes toi ton tous tout très tu un une
        vos votre vous y ça c'est j'ai""",
    "es": """a al algo como con de del el ella ellos en era es esa ese eso esta está están
        este esto fue ha han hay la las le les lo los me mi mis muy más nada ni no nos o para
        pero por porque que se sea ser si sin sobre son su sus también te tengo tiene todo
        tu un una uno y ya yo""",
    "pt": """a ao aos as com como da das de do dos e ela ele eles em entre era essa esse esta
        este eu foi há isso já mais mas me meu minha muito na nas nem no nos não o os ou para
        pela pelo por que se sem ser seu sua são também tem ter um uma você é""",
    "it": """a ad al alla alle anche che ci come con da dal dalla del della delle di e è gli
        ha hanno ho i il in io la le lo ma mi mio molto ne nei nel nella non per più poi quando
        quello questo se si sono su sua suo ti tra tu un una uno""",
    "nl": """aan al als bij dan dat de die dit door een en er geen had heb heeft het hij hoe
        ik in is je kan maar me met mijn naar niet nog nu of om ons ook op over te tot u uit
        van veel voor was wat we wel wij zal ze zeer zich zijn zo""",
}
STOPWORDS = frozenset(w for words in _LISTS.values() for w in words.split())
# Chinese particles and pronouns, Japanese 私; a Han run is split at them ('登录很慢' -> 登录, 慢)
HAN_STOP = frozenset("的了是我你他她它们在和很也都就不吗呢吧啊这那有没个把被得着过私")
