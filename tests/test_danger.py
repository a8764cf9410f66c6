"""Table-driven tests for the deterministic danger detector (safety rule S1).

Each row reads as the specification: a message, and whether it is danger and, if so, whether the
danger may be present right now (112 first). All sentences are fictional.
A miss is a safety failure; a false positive only puts emergency numbers first.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import yaml

from bot.safety.danger import (
    DEFAULT_PATTERNS_PATH,
    MAX_ANALYSED_CHARS,
    DangerAssessment,
    PatternFileError,
    assess,
    compile_patterns,
    default_patterns,
    detect_danger,
    has_immediacy_cue,
    normalise,
)

NOW = True  # immediate: the danger may be present right now
LATER = False  # danger, but nothing says it is happening at this moment

# (message, immediate)
POSITIVE: list[tuple[str, bool]] = [
    # --- Finnish, standard language
    ("Mieheni lyö minua.", LATER),
    ("Puolisoni on lyönyt minua useita kertoja.", LATER),
    ("Kumppanini potkaisi minua vatsaan.", LATER),
    ("Hän kuristi minua eilen illalla.", LATER),
    ("Mieheni uhkasi tappaa minut.", LATER),
    ("Pelkään puolisoani.", LATER),
    ("Ex-mieheni vainoaa minua.", LATER),
    ("Mies uhkaa.", LATER),
    ("Ex vainoaa", LATER),
    ("Olen kokenut lähisuhdeväkivaltaa.", LATER),
    ("Isä lyö äitiä.", LATER),
    ("Lapseni kertoi, että isä lyö häntä.", LATER),
    ("Vaimoni hakkaa minua, kun hän juo.", LATER),
    ("Minut raiskattiin.", LATER),
    ("Kumppanini pakotti minut seksiin.", LATER),
    ("Hänellä on veitsi ja hän uhkaa minua.", NOW),
    ("Mieheni uhkasi minua aseella.", LATER),
    ("Puoliso ottaa kaikki rahani eikä anna minun käydä töissä.", LATER),
    ("Mieheni lukee kaikki viestini ja tarkistaa puhelimeni.", LATER),
    ("Entinen puolisoni seuraa minua joka paikkaan.", LATER),
    ("Pelkään, että hän tappaa minut.", NOW),
    ("Hän on oven takana.", NOW),
    ("Se tulee kohta.", NOW),
    ("Pelkään että se tappaa mut nyt.", NOW),
    ("Olen piilossa vessassa, hän riehuu.", NOW),
    ("Mies on humalassa ja riehuu.", NOW),
    ("Lapsen isä on uhannut viedä lapset ulkomaille.", LATER),
    ("Mua pelottaa mennä kotiin.", LATER),
    ("En uskalla mennä kotiin.", LATER),
    ("Hän on lyönyt lastamme.", LATER),
    ("Äitipuoli tukistaa lasta.", LATER),
    ("Naapurin isä ravistelee vauvaa.", LATER),
    ("Mieheni painoi minut seinää vasten.", LATER),
    ("Kumppani on satuttanut minua.", LATER),
    ("Minua on pahoinpidelty kotona.", LATER),
    ("Olen joutunut henkisen väkivallan kohteeksi.", LATER),
    ("Taloudellinen väkivalta parisuhteessa", LATER),
    ("Puoliso haukkuu ja nöyryyttää minua.", LATER),
    ("Poikaystävä uhkasi levittää alastonkuviani.", LATER),
    ("Autostani löytyi paikannin.", LATER),
    ("Exä ei jätä minua rauhaan vaan soittaa jatkuvasti.", LATER),
    ("Tarvitsen lähestymiskiellon.", LATER),
    ("Missä on lähin turvakoti?", LATER),
    ("Mieheni ei päästä minua ulos asunnosta.", NOW),
    ("Pelkään henkeni puolesta.", NOW),
    ("En ole turvassa kotona.", NOW),
    ("Soitin eilen poliisit, kun mies kävi käsiksi.", LATER),
    ("Isäpuoli koskettelee siskoani.", LATER),
    ("Hän yrittää murtautua sisään.", NOW),
    ("Mies hakkaa ovea ja huutaa.", NOW),
    ("Lapsi pelkää isäänsä.", LATER),
    ("Mieheni on väkivaltainen.", LATER),
    ("Saan jatkuvasti uhkaavia viestejä entiseltä puolisolta.", LATER),
    ("Kumppani kontrolloi kaikkea mitä teen.", LATER),
    ("Hän kielsi minua tapaamasta ystäviäni.", LATER),
    ("Pelkään että exä vie lapset.", LATER),
    ("Puoliso tönäisi minut lattialle.", LATER),
    ("Mies heitti minua tuolilla.", LATER),
    ("Minua uhkaillaan.", LATER),
    ("Hän sanoi tappavansa koko perheen.", LATER),
    ("Tunnen oloni turvattomaksi kotona.", LATER),
    ("Mies on tulossa kotiin ja pelkään mitä tapahtuu.", NOW),
    ("Hätätilanne, mies hakkaa minua!", NOW),
    ("Auttakaa, se lyö mua", NOW),
    ("Ex seisoo pihalla eikä lähde pois.", NOW),
    ("Päiväkodissa lapsi kertoi, että isi lyö häntä remmillä.", LATER),
    ("Isä potkii veljeäni.", LATER),
    ("Naapurissa lasta lyödään, mitä teen?", LATER),
    ("Aikuinen poikani on väkivaltainen minua kohtaan.", LATER),
    ("Mieheni pakottaa minut kertomaan missä olen koko ajan.", LATER),
    ("Puoliso vaatii salasanat kaikkiin tileihini.", LATER),
    # --- Finnish, spoken language (puhekieli)
    ("mun mies lyö mua", LATER),
    ("se hakkas mua taas", LATER),
    ("exä uhkas tappaa mut", LATER),
    ("se löi mua naamaan", LATER),
    ("mä pelkään mun miestä", LATER),
    ("faija hakkaa mutsia", LATER),
    ("ukko riehuu kännissä", NOW),
    ("se kuristi mua", LATER),
    ("mun poikaystävä tönii mua", LATER),
    ("se on tulossa tänne", NOW),
    ("sil on puukko", NOW),
    ("se uhkaa mua veitsellä", NOW),
    ("mua pelottaa ku se tulee kotiin", NOW),
    ("ex kyttää mua koko ajan", LATER),
    ("se vei mun kaikki rahat", LATER),
    ("mies ei anna mulle rahaa ruokaan", LATER),
    ("puoliso tsekkaa mun puhelimen joka ilta", LATER),
    ("se seuraa mun sijaintia puhelimesta", LATER),
    ("oon piilossa makkarissa lasten kaa", NOW),
    ("se sano et tappaa mut jos lähden", LATER),
    ("äijä on kännissä ja heittelee tavaroita", NOW),
    ("mä en uskalla kertoo kellekään", LATER),
    ("se löi mua ja oon ihan mustelmilla", LATER),
    ("exä uhkailee viesteil", LATER),
    ("mun isä hakkaa mua", LATER),
    ("isi lyö äitiä", LATER),
    ("mun äiti lyö mua remmillä", LATER),
    ("kumppani pakottaa seksiin", LATER),
    ("se painaa tyynyn mun naamalle", LATER),
    ("mies yritti kuristaa mua", LATER),
    ("apua se lyö mua nyt", NOW),
    ("se on ihan raivona ja tulossa", NOW),
    ("mulla on hätä", NOW),
    ("lyön vetoa että se tappaa mut", LATER),
    # --- Finnish with typos, missing diacritics, shouting, emoji, odd whitespace
    ("mieheni loi minua", LATER),
    ("lahisuhdevakivalta", LATER),
    ("pelkaan miestani", LATER),
    ("exa vainoo mua", LATER),
    ("vakivltaa kotona", LATER),
    ("mieheni pahonpitelee minua", LATER),
    ("puoliso on vakivaltainen", LATER),
    ("se uhkaa tapaa mut", LATER),
    ("ex uhkailee tapaa minut", LATER),
    ("mies kurstaa mua", LATER),
    ("raiskas mut", LATER),
    ("MIEHENI LYÖ MINUA!!!", LATER),
    ("se lyööö muaaaa", LATER),
    ("ex-mieheni uhkaa tappaa minut", LATER),
    ("Mieheni löi minua 😢", LATER),
    ("pelkään\tmiestäni\n", LATER),
    ("mieheni\u00a0lyö\u200bminua", LATER),
    ("MIEHENI LYO MINUA", LATER),
    # --- Swedish
    ("Min man slår mig.", LATER),
    ("Han slår mig nu.", NOW),
    ("Jag är rädd för min sambo.", LATER),
    ("Mitt ex förföljer mig.", LATER),
    ("Han hotade att döda mig.", LATER),
    ("Min pojkvän våldtog mig.", LATER),
    ("Pappa slår mamma.", LATER),
    ("Han står utanför dörren och försöker ta sig in.", NOW),
    ("Jag blir kontrollerad av min man, han tar mina pengar.", LATER),
    ("Han har en kniv.", NOW),
    ("Jag vågar inte gå hem.", LATER),
    ("Jag har blivit misshandlad.", LATER),
    ("Han stryper mig.", LATER),
    ("Jag är utsatt för våld i nära relation.", LATER),
    ("Min man läser mina meddelanden.", LATER),
    ("hjälp han är på väg hit", NOW),
    ("jag är rädd just nu", NOW),
    ("Min sambo sparkar barnen.", LATER),
    ("Exet hotar mig hela tiden.", LATER),
    # --- English
    ("My husband hits me.", LATER),
    ("He is hitting me right now.", NOW),
    ("My boyfriend choked me last night.", LATER),
    ("I'm afraid of my partner.", LATER),
    ("My ex is stalking me.", LATER),
    ("He threatened to kill me.", LATER),
    ("I was raped by my ex.", LATER),
    ("My dad beats my mom.", LATER),
    ("He has a gun and says he'll shoot.", NOW),
    ("My partner controls all my money.", LATER),
    ("He won't let me see my friends.", LATER),
    ("She checks my phone every night and tracks my location.", LATER),
    ("I don't feel safe at home.", NOW),
    ("He's outside my door trying to get in.", NOW),
    ("Domestic violence support near me", LATER),
    ("My stepfather hurts my little sister.", LATER),
    ("I'm scared he will kill me.", NOW),
    ("My ex keeps threatening to take the kids.", LATER),
    ("He pushed me down the stairs.", LATER),
    ("I am being abused.", LATER),
    ("He slapped me in front of the kids.", LATER),
    ("My wife is violent when she drinks.", LATER),
    ("He locked me in the bedroom.", NOW),
    ("I need a women's shelter.", LATER),
    ("He punched the wall next to my head and I'm terrified.", LATER),
    ("My son's father slaps him.", LATER),
    ("he is coming home and I am scared", NOW),
    ("I am in danger", NOW),
    ("my partner forced me to have sex", LATER),
    # --- S8 hard cases that must STAY danger: negation of one act only, a qualifier, an adult in the clause,
    #     a teenager beating a small sibling, a real condition behind laughter, a person behind the topic
    ("Ei se lyö lapsia, vain minua.", LATER),
    ("Meillä ei ole fyysistä väkivaltaa, mutta henkistä on paljon.", LATER),
    ("Vauva itkee ja mies lyö sitä.", LATER),
    ("16-vuotias poikani hakkaa pikkusiskoaan niin että tulee mustelmia", LATER),
    ("se uhkas tappaa mut 😂 en tiiä pitäiskö pelätä", LATER),
    ("exä sano et tappaa mut jos lähden haha", LATER),
    ("Teen esitelmää, mutta oikeasti mieheni on väkivaltainen.", LATER),
    ("He hasn't hit me yet but he says he will.", LATER),
    # --- control through the phone, keys and card; confinement
    ("Kumppani vie aina mun auton avaimet ja pankkikortin.", LATER),
    ("Hänen kumppaninsa pitää häntä lukittuna kotona.", NOW),
    ("Mies lukitsee minut makuuhuoneeseen kun lähtee kauppaan.", LATER),
    ("Han har låst in mig i badrummet.", NOW),
    ("My sister says her husband locked her in the flat.", NOW),
    # --- threats tied to leaving or telling, veiled threats, "you are dead", a promised beating
    ("Vaimo sanoi, että jos otan eron, en näe poikaa enää.", LATER),
    ("Se lupas polttaa kodin jos muutan pois.", LATER),
    ("Mies huusi puhelimessa että olet kuollut kun tulen kotiin.", LATER),
    ("Isäpuoli sanoi että saan selkään jos myöhästyn.", LATER),
    ("Han skrev att jag ska få ångra mig.", LATER),
    ("He keeps saying I'll find out what happens to wives who disobey.", LATER),
    # --- sexual abuse and coercion in plain words
    ("Isoisä koskee lapseen sopimattomasti saunassa.", LATER),
    ("Puoliso sanoo että seksi on vaimon velvollisuus.", LATER),
    ("Han tvingar mig att skicka nakenbilder.", LATER),
    # --- third parties heard or seen (neighbours), a cry for help, a drunk relative at the door
    ("Seinän takaa kuuluu lyöntejä ja itkua, mitä teen?", LATER),
    ("Pihalla joku huutaa apua.", NOW),
    ("Exä on kännissä rapussa ja yrittää päästä sisään.", NOW),
    ("Jag hör skrik och dunsar från grannen.", LATER),
    ("Someone upstairs is being beaten, I can hear screaming.", LATER),
    # --- Swedish and English forms that were missing
    ("Min exman följer efter mig hem från jobbet.", LATER),
    ("Jag har blåmärken på armarna igen.", LATER),
    ("Min svärfar slår vår dotter.", LATER),
    ("She threw a glass at my face.", LATER),
    ("I walk on eggshells around my husband.", LATER),
    ("He grabbed me by my throat yesterday.", LATER),
    ("My dad is drunk and on his way back, I'm scared.", NOW),
    # --- immediacy: it has just happened, the writer is hiding or shut out
    ("se on just lyöny mua ja on tossa vieressä", NOW),
    ("istun autossa pihalla koska en uskalla mennä sisään", NOW),
    ("She has been hitting me for years.", LATER),
    # --- more forms of physical violence and degradation
    ("mies läpsii mua kun se suuttuu", LATER),
    ("se sylki mun päälle ja repi mun vaatteet", LATER),
    ("my husband pinned me down and wouldn't let me go", LATER),
    ("my partner smashed my phone and said I'm not allowed to leave", LATER),
    ("lapsi itkee ja isä lyö veljeä", LATER),
    ("mies tulee kotiin ja lyö mua taas", NOW),
    # --- fear of being with a person, stalking by waiting, threats tied to leaving, bruises, touching (en/sv)
    ("miehen kanssa oleminen pelottaa", LATER),
    ("exä odottaa mua joka päivä töiden jälkeen parkkipaikalla", LATER),
    ("my husband gets really angry and I'm scared to be home with him", LATER),
    ("my ex won't stop showing up at my work", LATER),
    ("he says if I leave he'll take the kids and I'll never see them", LATER),
    ("my neighbour's kid has bruises all the time and the dad yells a lot", LATER),
    ("she told me her dad touches her", LATER),
    ("jag vågar inte lämna honom", LATER),
    ("pappa är full och slår sönder saker", LATER),
    # --- short cries, veiled threats, weapons in hand
    ("auttakaa se on ovella", NOW),
    ("se latas haulikon ja istuu olohuoneessa", NOW),
    ("isäpuoli juoksee perässä pihalla kirveen kanssa", NOW),
    ("se sano et tänä yönä se hoitaa mut", NOW),
    ("he smashed the TV and said I'm next", LATER),
    ("help she's outside", NOW),
    # --- second development round: wider classes (own wording)
    ("Sillä jäi sormenjäljet mun käsivarteen kun se riuhtoi mua.", LATER),
    ("Joudun aina keksimään selityksiä mustelmille työkavereille.", LATER),
    ("Se tarttui mua hiuksista ja kiskoi lattialle.", LATER),
    ("Hän piti käsiään mun kaulalla kunnes en saanut henkeä.", LATER),
    ("Mies painoi lapsen pään ammeeseen rangaistukseksi.", LATER),
    ("Mun jätkä veti mua turpaan viime viikonloppuna.", LATER),
    ("Vaimo ei päästä mua lääkäriin yksin eikä anna mun nukkua.", LATER),
    ("Puoliso on ottanut pikavippejä mun nimissä ja mulla ei ole omaa rahaa.", LATER),
    ("Se haukkuu mua joka ilta ja sanoo et oon arvoton ja ruma.", LATER),
    ("Poikaystävä puhkoo kondomeja, jotta tulisin raskaaksi.", LATER),
    ("Exä tekee valeprofiileja ja ajaa mun perässä töistä kotiin.", LATER),
    ("Se sanoi ettei me nähdä ensi kesää.", LATER),
    ("Jos hän ei saa lapsia, niin ei kukaan saa, se kirjoitti.", LATER),
    ("Veljet sanoivat, että suvun häpeä pestään pois.", LATER),
    ("Minut on luvattu naimisiin serkulle ja passi on viety.", LATER),
    ("Hän kaatoi bensaa portaikkoon ja uhkasi sytyttää.", LATER),
    ("Valmentaja pyytää kuvia musta ja sanoo että se on meidän salaisuus.", LATER),
    ("Joku uhkaa jakaa mun kuvat koko luokalle jos en maksa.", LATER),
    ("Han har tagit krediter i mitt namn och vet alltid var jag är.", LATER),
    ("Han står utanför jobbet varje kväll fast vi har separerat.", LATER),
    ("She twisted my wrist and left marks again.", LATER),
    ("He poisoned our dog to show me what he is capable of.", LATER),
    ("My parents arranged a marriage for me and took my passport.", LATER),
    ("Hän istuu oven takana ja hakkaa sitä, ollaan sängyn alla.", NOW),
]

NEGATIVE: list[str] = [
    # --- numbers that contain 112 (S8): phone numbers in groups or unbroken, repeated digits, prices, times
    "mun numero on 050 112 3344",
    "soittakaa numeroon 040 1112 222",
    "numero +358 50 112 3344",
    "0401112222",
    "1112222",
    "045 7112 889",
    "klo 11.12 olis hyvä aika",
    "vaunut maksoi 112 euroa",
    # --- Finnish idioms and near misses
    "Lyön vetoa, että huomenna sataa.",
    "Lyödäänkö päivämäärä lukkoon?",
    "Tapan aikaa odotellessani bussia.",
    "Lapset katsoivat väkivaltaelokuvan, onko se vaarallista?",
    "Lyödään lukkoon tiistai.",
    "Tappava tylsyys iski sadepäivänä.",
    "Potkaisin pallon naapurin pihalle.",
    "Pelottava elokuva jäi lapsen mieleen.",
    "Hakkaan näppäimistöä koko päivän töissä.",
    "Uhkapeli on vienyt perheen säästöt.",
    "Kuristava aikataulu stressaa koko perhettä.",
    "Lyökää kättä päälle ja sopikaa asia.",
    "Kello lyö kaksitoista.",
    "Salama löi puuhun pihallamme.",
    "Lapsi löi päänsä pöydän kulmaan.",
    "Löin polveni portaissa.",
    "Mies lyö laimin elatusmaksunsa.",
    "Tämä kiire tappaa minut.",
    "Helle tappaa, onko perhekahvila ilmastoitu?",
    "Pesuaine tappaa bakteerit tehokkaasti.",
    "Väkivaltapelit ja lapset – onko haittaa?",
    "Onko väkivaltaisten pelien pelaaminen haitallista kouluikäiselle?",
    "Vauva potkii masussa tosi paljon.",
    "Lapsi potkaisi palloa ja ikkuna meni rikki.",
    "Poika harrastaa nyrkkeilyä ja karatea.",
    "Pelkään hämähäkkejä.",
    "Pelkään että lapseni ei saa päiväkotipaikkaa.",
    "Pelkään, että exä ei maksa elatusapua ajallaan.",
    "Mua jännittää ja pelottaa synnytys.",
    "Vainoharhainen ajattelu huolestuttaa.",
    "Uhkasakko tapaamisoikeuden rikkomisesta",
    "Sopimus uhkaa raueta, jos emme sovi.",
    "Sää näyttää uhkaavalta, perutaanko retki?",
    "Ravistelin maton parvekkeella.",
    "Lapsi satutti polvensa pihalla leikkiessä.",
    "Lapsi löi päänsä ja sai mustelman.",
    "Tytär tappelee veljensä kanssa joka päivä.",
    "Sisarukset riitelevät paljon, miten puutun?",
    "Hakkasin halkoja koko aamun.",
    "Lyön rumpua bändissä.",
    "Tennisvalmentaja opettaa lyömään rystyllä.",
    "Mikä on paras tapa ottaa puheeksi ero?",
    "Tapaan lapseni joka toinen viikonloppu.",
    "Isä tapaa lapsia valvotusti.",
    "Lapset tapaavat isäänsä lauantaisin.",
    "Miten tapaamiset kannattaa järjestää eron jälkeen?",
    "Taapero puree ja lyö muita lapsia päiväkodissa.",
    "Lapset lyövät toisiaan, miten puutun?",
    "Se on kuin lyötäisiin päätä seinään.",
    "Ihan kuin hakkaisi päätä seinään.",
    "Tämä byrokratia tappaa minut.",
    "Kiusaaminen koulussa huolestuttaa.",
    "Mies tuli kotiin ja teki ruokaa.",
    "Hän tulee huomenna hakemaan lapset.",
    "Isä on tulossa hakemaan lapsia päiväkodista.",
    "Mun mies tulee kohta kotiin töistä, voinko jatkaa myöhemmin?",
    "Soitin neuvolaan ja sain ajan.",
    "Lapsella on kuumetta, pitääkö soittaa päivystykseen?",
    "Mies auttaa paljon kotitöissä.",
    "Puoliso valvoo yöt vauvan kanssa.",
    "Isä vahtii lapsia illalla kun käyn kurssilla.",
    "Kumppani kontrolloi lasten ruutuaikaa.",
    "Ex-puolisoni ja minä emme pääse sopuun tapaamisista.",
    "Meillä on riitaa exän kanssa lapsen koulusta.",
    "Exmies puhuu minusta pahaa lapsille.",
    "Tarvitsemme pariterapiaa, riitelemme paljon.",
    "Voiko perhekahvilaan tulla isän kanssa?",
    "Olen yksinhuoltaja ja tosi väsynyt.",
    "Hakkaan puita mökillä viikonloppuna.",
    "Lapsi satuttaa itseään kun raivoaa, onko normaalia?",
    "Pelkään että vauva kuolee kätkytkuolemaan.",
    "Uhkaavat pilvet kerääntyivät, retki peruttiin.",
    "Väkivallaton kasvatus, miten toteutan sen?",
    "Mieheni tappelee pelissä kavereidensa kanssa.",
    "Rakastan miestäni.",
    "Kurittomat lapset väsyttävät, mistä vinkkejä?",
    "Lasten isä muuttaa toiselle paikkakunnalle, miten tapaamiset?",
    "Mua ahdistaa ero.",
    "Ahdistaa ja pelottaa tulevaisuus.",
    "Tarvitsen apua lastenhoitoon huomenna.",
    "Onko teillä vertaisryhmää eronneille?",
    "Koulukiusaaminen, mistä apua?",
    "Poliisin lupa tarvitaan yleisötilaisuuteen.",
    "Ystäväni lyö aina vetoa jalkapallosta.",
    "Lapselle tuli pissahätä kesken kaiken.",
    "Ei hätää, kysyn myöhemmin.",
    "Mikä hätänä?",
    "Kaikki rahat menevät vuokraan.",
    "Mies ottaa lapset viikonlopuksi.",
    "Exä vie lapset kouluun maanantaisin.",
    "Lapseni isä asuu ulkomailla, miten elatus hoidetaan?",
    "Hän haluaa viedä lapset mökille kesäksi.",
    "Lapsi pelkää pimeää.",
    "Lapsi pelkää mennä kouluun.",
    "Pelottaa jättää lapsi ensimmäistä kertaa hoitoon.",
    "Voinko tulla perhekahvilaan nyt heti?",
    "Lapsi heittelee tavaroita kun suuttuu.",
    "Uhmaikäinen saa raivokohtauksia kaupassa.",
    "Kaveri hakkasi minut shakissa.",
    "Velka kuristaa perhettämme, mistä talousneuvontaa?",
    "Käydään käsiksi asiaan: miten haen elatustukea?",
    "Miten tarkistan puhelimeni asetukset?",
    "Lapsi ottaa mun puhelimen ja pelaa koko ajan.",
    "Mihin aikaan perhekahvila on auki Tampereella?",
    "Haemme eroa, miten elatusapu lasketaan?",
    "Exä ei maksa elatusapua, mitä voin tehdä?",
    "Tarvitsemme perheasioiden sovittelua.",
    "Miten haen elatustukea Kelasta?",
    "Onko kohtaamispaikassa vauvaryhmää?",
    "Lapsi ei nuku öisin, mistä apua?",
    "Vauva itkee paljon, onko se koliikkia?",
    "Miten kerron lapselle erosta?",
    "Onko perhekeskuksen palvelut maksuttomia?",
    "Missä on lähin perhekahvila?",
    "Haluaisin varata ajan perheneuvolaan.",
    "Miten lapsen huoltajuus jaetaan erossa?",
    "Voiko elatusavusta sopia itse?",
    "Perhekahvila Kempeleessä tiistaisin?",
    "Kiitos avusta!",
    "Mikä on perhekeskus?",
    "Onko chat anonyymi?",
    "Miten saan lastenvalvojan ajan?",
    "Vauvan isä ei halua tavata lasta.",
    "Isovanhemmat haluavat tavata lapsenlapsia.",
    "Pitääkö tapaamiset sopia kirjallisesti?",
    "Pitää mennä nyt, lapsi heräs.",
    # --- Swedish
    "Jag slår vad om att det regnar imorgon.",
    "Kan du slå upp öppettiderna?",
    "Han slog sig ner i soffan.",
    "Det slog mig att jag glömt nyckeln.",
    "Barnet sparkade bollen över staketet.",
    "Vi såg en våldsam film igår.",
    "Hon blev vald till ordförande.",
    "Var finns närmaste familjecentral?",
    "Jag är rädd för spindlar.",
    "Bebisen sparkar i magen hela natten.",
    "Hur ansöker jag om underhållsstöd?",
    "Vi ska skiljas, var får vi samtalsstöd?",
    "Min ex och jag bråkar om barnens skola.",
    # --- English
    "I'm just killing time before the kids wake up.",
    "This deadline is killing me.",
    "Hit me up when the family café opens.",
    "I bet the playgroup is full already.",
    "My son kicked the ball into the neighbour's yard.",
    "My toddler beat me at memory games again.",
    "The baby kicks a lot at night.",
    "Is violence in cartoons bad for toddlers?",
    "My back is killing me after carrying the baby.",
    "It really hurt me when he forgot my birthday.",
    "Where is the nearest family centre?",
    "How do I apply for child support?",
    "I'm scared of the dark, and so is my son.",
    "We watched a scary movie.",
    "We need mediation with my ex about the kids.",
    "She hurt her knee at the playground.",
    "I'm afraid my daughter isn't eating enough.",
    "Substance abuse counselling for teenagers",
    "Push the stroller to the park.",
    "My partner pushes me to be a better parent.",
    "He threw me a surprise party.",
    "My husband and I argue about chores.",
    "Grab me a coffee on your way?",
    "Celery stalks are a good snack for toddlers.",
    "I had a panic attack at the supermarket.",
    "The baby choked on a grape, what should I do?",
    "Kill the lights, the baby is asleep.",
    "Killing it as a new dad!",
    "My toddler keeps hitting the table with a spoon.",
    "He hit the jackpot with that daycare spot.",
    "She beat the record at the swim school.",
    "We're fighting about money, can we get couples counselling?",
    "My partner is controlling about the TV remote, haha.",
    "It just hit me that the kids start school tomorrow.",
    "You're killing me, that joke was great.",
    "Non-violent communication course for parents?",
    # --- S8 hard negatives: negation, small children, jokes, pests, lifts, media, sport, 112 in other roles,
    #     schoolwork and staff training
    "mun puoliso ei oo koskaan lyöny ketään mut se mököttää viikkoja",
    "Meillä ei ole mitään väkivaltaa, riitelemme vain rahasta.",
    "He has never been violent, we just disagree about bedtimes.",
    "Kaksivuotias hakkaa mua lelulla kun se on nälkäinen.",
    "Taaperoni puree ja lyö mua kun väsyttää, miten toimin?",
    "Tytär lyö pikkuveljeään, miten puutun?",
    "Äiti tappaa mut jos myöhästyn taas illalliselta haha",
    "My wife will kill me if I forget the milk again 🤣",
    "Miten saa tapettua kihomadot koko perheeltä?",
    "Mieheni tappoi ampiaispesän parvekkeelta.",
    "Ex heittää pojan treeneihin tiistaisin.",
    "Mies sai potkut töistä ja stressaa.",
    "Luin kirjan, jossa isä uhkaili perhettään, ja se jäi mieleen.",
    "Poikaa potkaistiin jalkapallotreeneissä tahallaan.",
    "My daughter got kicked during the soccer match, should I complain?",
    "Asumme osoitteessa Rantatie 112 B.",
    "Opetin lapselle, että hätänumero on 112.",
    "Lapsi soitti vahingossa 112, mitä nyt?",
    "Teen esitelmää lähisuhdeväkivallasta, mistä löydän tilastoja?",
    "I'm writing an essay on women's shelters for my social work course.",
    "Pelottaa mennä kotiin kun siellä odottaa tiskivuori",
    "Isä sanoi että jos kerron äidille yllätyksestä se menee pilalle.",
    "Äiti sanoi että jos lähden ulos pitää ottaa takki.",
    "Naapurista kuuluu musiikkia ja naurua.",
    "Meikkasin finnin piiloon ennen juhlia.",
    "Tää uhmaikä tappaa mut.",
    "Koliikkivauva tappaa mut, en oo nukkunu viikkoon.",
    "7-vuotias lyö mua kun raivoaa",
    "Esikoinen on kateellinen ja nipistää pikkusisarusta.",
    "my toddler hits me when he's tired",
    "Min tvååring slår mig när hon är trött.",
    "Mun mies heitti pallon koiralle.",
    "Mies löi hanskat tiskiin ja irtisanoutui.",
    "se tulee kohta kotiin töistä ja sit syödään",
    "Opetin eskarilaiselle milloin soitetaan 112.",
    "mä tapan sut 😂",
    "mun mies tappaa mut kun se näkee tän laskun 😂",
    "My son got bruises again at football.",
    "My mom said if I leave my room messy I can't go out.",
    "I'm scared to be home alone at night.",
    "Isä odottaa pihalla kun haen lapset.",
    "Dad touches her hair when she cries.",
    "I'm next in line at the clinic, can I call back?",
    "Sä oot seuraava vuorossa neuvolassa.",
    # --- second development round: harmless uses (own wording)
    "Turvaportti maksoi 112 € ja tilausnumero on 112-4471.",
    "Kerhohuone 112 on varattu perjantaina, tiedättekö missä huoneessa se on?",
    "Esikoinen tietää jo hätänumeron ja sanoi ylpeänä 112.",
    "Raesade hakkasi ikkunaan koko yön eikä kukaan nukkunut.",
    "Mummo heittää lapset kirjastoon keskiviikkoisin.",
    "Isä hakkas mut mölkyssä taas 😂",
    "Naapurin koira haukkuu aamusta iltaan.",
    "Taapero pelkää ukkosta ja juoksee syliin.",
    "Lukupiirissä luetaan romaania lähisuhdeväkivallasta.",
    "That heatwave is really killing me this week.",
]

PATTERN_IDS = {
    entry["id"]
    for section in ("patterns", "immediate_cues")
    for entry in yaml.safe_load(DEFAULT_PATTERNS_PATH.read_text(encoding="utf-8"))[section]
}


def _row_id(text: str) -> str:
    return re.sub(r"\W+", "_", text.strip())[:40]


def test_table_sizes() -> None:
    assert len(POSITIVE) >= 120
    assert len(NEGATIVE) >= 120


@pytest.mark.parametrize(("text", "immediate"), POSITIVE, ids=[_row_id(t) for t, _ in POSITIVE])
def test_positive(text: str, immediate: bool) -> None:
    result = detect_danger(text)
    assert result.is_danger, f"missed danger: {text!r}"
    assert result.immediate is immediate, f"immediate should be {immediate}: {text!r} -> {result.matched}"


@pytest.mark.parametrize("text", NEGATIVE, ids=[_row_id(t) for t in NEGATIVE])
def test_negative(text: str) -> None:
    result = detect_danger(text)
    assert not result.is_danger, f"false alarm: {text!r} -> {result.matched}"
    assert result == DangerAssessment(is_danger=False, immediate=False, matched=())


def test_brief_examples() -> None:
    for text in (
        "se tulee kohta",
        "hän on oven takana",
        "pelkään että se tappaa mut nyt",
        "han slår mig nu",
        "he is hitting me right now",
    ):
        result = detect_danger(text)
        assert result.is_danger and result.immediate, text
    for text in ("pelkään puolisoani", "mies uhkaa", "ex vainoaa"):
        assert detect_danger(text).is_danger, text


def test_matched_holds_only_pattern_ids_never_user_text() -> None:
    secret = "Zyxwvq Qwertyson"
    for text, _ in POSITIVE:
        result = detect_danger(f"{text} {secret}")
        assert result.matched
        assert set(result.matched) <= PATTERN_IDS
        assert all(re.fullmatch(r"[a-z0-9_.]+", pattern_id) for pattern_id in result.matched)
        joined = " ".join(result.matched)
        assert "zyxwvq" not in joined and "qwertyson" not in joined
    assert detect_danger(f"mieheni lyö minua {secret}").matched == detect_danger("mieheni lyö minua").matched


def test_assessment_is_frozen() -> None:
    result = detect_danger("mieheni lyö minua")
    with pytest.raises(FrozenInstanceError):
        result.is_danger = False  # type: ignore[misc]


def test_huge_random_input_returns_quickly() -> None:
    rng = random.Random(20240601)
    alphabet = "abcdefghijklmnopqrstuvwxyzäöåABCÄÖ 0123456789.,!?\n\t\x00\x07😀👋🏽ß中文й"
    text = "".join(rng.choice(alphabet) for _ in range(200_000))
    start = time.perf_counter()
    result = detect_danger(text)
    assert time.perf_counter() - start < 1.0
    assert isinstance(result, DangerAssessment)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "ab" * 100_000,
        "lyö " * 50_000,
        "se on " * 40_000,
        "pelkään että " * 20_000,
        "x" * 4_999 + " mieheni lyö minua",
        "\u0301" * 100_000,
        ("ä" * 50 + " ") * 4_000,
    ],
    ids=["aaaa", "abab", "lyo", "se_on", "pelkaan_etta", "late_danger", "combining", "long_words"],
)
def test_adversarial_input_is_bounded(text: str) -> None:
    start = time.perf_counter()
    detect_danger(text)
    assert time.perf_counter() - start < 1.0


def test_only_the_first_chars_are_analysed() -> None:
    assert not detect_danger("x " * MAX_ANALYSED_CHARS + "mieheni lyö minua").is_danger
    assert detect_danger("mieheni lyö minua " + "x " * MAX_ANALYSED_CHARS).is_danger


@pytest.mark.parametrize("text", ["", " ", "\n\t", "😀😀😀", "\x00\x01\x02", "???", "\ud800", "12345"])
def test_empty_and_odd_input_is_safe(text: str) -> None:
    assert detect_danger(text) == DangerAssessment(False, False, ())


def test_control_characters_and_emoji_separate_words() -> None:
    assert detect_danger("mieheni\x00lyö\x07minua").is_danger
    assert detect_danger("mieheni😡lyö😭minua").is_danger
    assert detect_danger("vä\u00adki\u200bvaltaa kotona").is_danger  # soft hyphen, zero-width space


def test_typical_message_is_fast() -> None:
    messages = [text for text, _ in POSITIVE[:40]] + NEGATIVE[:40]
    detect_danger("lämmittely")
    start = time.perf_counter()
    for _ in range(5):
        for text in messages:
            detect_danger(text)
    per_message = (time.perf_counter() - start) / (5 * len(messages))
    # About 0.2 ms on a developer machine; the bound leaves room for a busy CI runner.
    assert per_message < 0.003


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mieheni LYÖ minua!!!", "mieheni lyo minua"),
        ("Våld i nära relationer", "vald i nara relationer"),
        ("he's hitting me", "hes hitting me"),
        ("apuaaaaa", "apuaa"),
        ("tappaa ≠ tapaa", "tappaa tapaa"),
        ("ex-mies", "ex mies"),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("STRASSE Straße", "strasse strasse"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_immediacy_cue_alone_is_not_danger() -> None:
    assert not detect_danger("Voinko tulla nyt heti?").is_danger
    assert has_immediacy_cue("nyt heti")
    assert not has_immediacy_cue("Milloin perhekahvila on auki?")


def test_pattern_file_is_reviewable() -> None:
    data = yaml.safe_load(DEFAULT_PATTERNS_PATH.read_text(encoding="utf-8"))
    entries = data["negatives"] + data["patterns"] + data["immediate_cues"] + data["info_frames"]
    ids = [entry["id"] for entry in entries]
    assert len(ids) == len(set(ids))
    assert all(entry.get("comment") for entry in entries), "every entry needs a comment for reviewers"
    assert {entry.get("lang") for entry in data["patterns"]} == {"fi", "sv", "en"}
    rules = default_patterns()
    assert len(rules.patterns) == len(data["patterns"])


@pytest.mark.parametrize(
    "document",
    [
        {"patterns": [{"id": "x.y", "regex": "{missing}"}]},
        {"patterns": [{"id": "x.y", "regex": "(unbalanced"}]},
        {"patterns": [{"id": "Bad Id", "regex": "lyo"}]},
        {"patterns": [{"id": "x.y", "regex": "a"}, {"id": "x.y", "regex": "b"}]},
        {"patterns": [{"id": "x.y", "regex": "a*"}]},
        {"patterns": [{"id": "x.y", "near": ["a"], "window": 2}]},
        {"patterns": []},
        {"patterns": [{"id": "x.y", "regex": "a", "topic": "yes"}]},
        {"patterns": [{"id": "x.y", "regex": "a"}], "emoji_words": {"😂": "Ha Ha"}},
        {"patterns": [{"id": "x.y", "regex": "a"}], "emoji_words": {"ab": "haha"}},
        ["not", "a", "mapping"],
    ],
)
def test_bad_pattern_files_fail_loudly(document: object) -> None:
    with pytest.raises(PatternFileError):
        compile_patterns(document)


def test_info_frame_sets_topic_matches_aside_but_not_acts() -> None:
    rules = compile_patterns(
        {
            "patterns": [
                {"id": "t.topic", "regex": "turvakot\\w*", "topic": True},
                {"id": "t.act", "regex": "lyo mua"},
            ],
            "info_frames": [{"id": "t.frame", "regex": "esitelm\\w*"}],
        }
    )
    assert assess("missä on turvakoti", rules).is_danger
    assert not assess("teen esitelmää turvakodeista", rules).is_danger
    assert assess("teen esitelmää turvakodeista mut se lyö mua", rules).matched == ("t.act",)


def test_laughing_emoji_become_a_word_for_the_patterns() -> None:
    rules = compile_patterns({"patterns": [{"id": "t.joke", "regex": "haha"}], "emoji_words": {"😂": "haha"}})
    assert assess("no niin😂", rules).is_danger
    assert not assess("no niin 😀", rules).is_danger
    assert normalise("no niin😂") == "no niin"  # the shared normaliser itself is unchanged


def test_recall_and_precision_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the table's recall and precision (run with -s to see it); the rows above enforce 100 %."""
    true_positives = sum(detect_danger(text).is_danger for text, _ in POSITIVE)
    false_positives = sum(detect_danger(text).is_danger for text in NEGATIVE)
    immediate_right = sum(detect_danger(text).immediate is immediate for text, immediate in POSITIVE)
    recall = true_positives / len(POSITIVE)
    precision = true_positives / max(1, true_positives + false_positives)
    with capsys.disabled():
        print(
            f"\ndanger table: {len(POSITIVE)} positive, {len(NEGATIVE)} negative; "
            f"recall {recall:.1%}, precision {precision:.1%}, immediate agreement "
            f"{immediate_right}/{len(POSITIVE)}"
        )
    assert Path(DEFAULT_PATTERNS_PATH).is_file()
