"""German and English function words a need is written with but that say nothing about what it needs
(pure data): articles, pronouns, prepositions, conjunctions, auxiliary and modal verbs, and the verbs of
asking for something ("suchen", "looking"). Lower case, as :func:`.analysis.words` gives them."""

from __future__ import annotations

_ENGLISH = """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my myself no nor
not now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them then there these they this those through to too under until up us very was
we were what when where which while who whom why will with would you your yours
want wants need needs looking like help get got
also another many much may might must shall others via whether within without
"""
_GERMAN = """
aber alle allem allen aller alles als also am an auch auf aus bei beim bin bis bist da damit dann das
dass dem den denn der des die dies diese diesem diesen dieser dieses doch dort du durch ein eine einem
einen einer eines er es etwas euch euer eure für fur gegen hat hatte hier ich ihm ihn ihnen ihr ihre
ihrem ihren ihrer im in ins ist ja jede jedem jeden jeder jedes kann kein keine können konnen man mein
meine mich mir mit muss müssen mussen nach nicht noch nun nur ob oder ohne sehr sein seine sich sie
sind so soll sollen sollte sondern über uber um und uns unser unsere unserem unseren unserer unter viel
viele vom von vor war waren was weil welche welchem welchen welcher wenn wer werden wie wir wird wo
wollen will zu zum zur zwischen
suchen suche sucht brauchen braucht möchten mochten möchte mochte
ander andere anderem anderen anderer anderes bzw dabei daran darauf davon dazu deren dessen einige
einigen einiger etwa gibt habe haben jetzt mehr mehrere schon sei sowie weitere weiteren worden wurde
wurden würde würden
"""
STOPWORDS = frozenset(_ENGLISH.split()) | frozenset(_GERMAN.split())
"""Words a query drops (unless nothing else remains)."""
