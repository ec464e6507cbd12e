// Written by scripts/confusables.js from Unicode's confusables.txt (UTS #39; version 10.0.0 here): do not edit.
// Each entry: a letter, then the ASCII letter or digit it is confusable with (its prototype). What was kept and
// why: the script's comment.

/** Letters that look like an ASCII letter (prototype a letter; `l` stands for capital I too, as in the list). */
export const CONFUSABLE_LETTERS = pairs([
  "ıi Ƅb ƍg Ɩl ƦR ƽs ǀl ɑa ɡg ɣy ɩi ɪi ɯw ʋu ʏy ͿJ ΑA ΒB ΕE ΖZ ΗH Ιl ΚK ΜM",
  "ΝN ΟO ΡP ΤT ΥY ΧX αa γy ιi νv οo ρp σo υu ϒY ϜF ϱp ϲc ϳj ϹC ϺM ЅS Іl ЈJ",
  "АA ВB ЕE КK МM НH ОO РP СC ТT УY ХX Ьb аa гr еe оo рp сc уy хx ѕs іi јj",
  "ѡw ѴV ѵv ҮY үy һh ҽe Ӏl ӏi ԁd ԌG ԛq ԜW ԝw ՍU ՏS ՕO աw գq զq հh ոn ռn սu",
  "ցg քf օo ଠO ഠo ဝo ყy ჿo ሀU ዐO ᎠD ᎡR ᎢT Ꭵi ᎩY ᎪA ᎫJ ᎬE ᎳW ᎷM ᎻH ᎽY ᏀG Ꮒh",
  "ᏃZ Ꮟb ᏒR ᏔW ᏕS ᏙV ᏚS ᏞL ᏟC ᏢP ᏦK Ꮷd ᏳG ᏴB ᐯV ᑌU ᑭP ᑯd ᒍJ ᒪL ᕁx ᕼH ᕽx ᖇR",
  "ᖯb ᖴF ᗅA ᗞD ᗪD ᗰM ᗷB ᚷX ᛁl ᛕK ᛖM ᴄc ᴏo ᴑo ᴜu ᴠv ᴡw ᴢz ᴦr ᶃg ᶌy ẝf ỿy ιi",
  "ℽy ⲅr ⲎH Ⲓl ⲔK ⲘM ⲚN ⲞO ⲟo ⲢP ⲣp ⲤC ⲥc ⲦT ⲨY ⲬX ⳐL ⴸV ⴹE ⵏl ⵔO ⵕQ ⵝX ꓐB",
  "ꓑP ꓒd ꓓD ꓔT ꓖG ꓗK ꓙJ ꓚC ꓜZ ꓝF ꓟM ꓠN ꓡL ꓢS ꓣR ꓦV ꓧH ꓪW ꓫX ꓬY ꓮA ꓰE ꓲl ꓳO",
  "ꓴU ꙇi ꛟV ꜱs ꞘF ꞙf ꞟu ꞲJ ꞳX ꞴB ꬲe ꬵf ꬽo ꭇr ꭈr ꭎu ꭒu ꭚy ꭵi ꮁr ꮃw ꮓz ꮩv ꮪs",
  "ꮯc 𐊂B 𐊆E 𐊇F 𐊊l 𐊐X 𐊒O 𐊕P 𐊖S 𐊗T 𐊠A 𐊡B 𐊢C 𐊥F 𐊫O 𐊰M 𐊱T 𐊲Y 𐊴X 𐋏H 𐌁B 𐌂C 𐌉l 𐌑M",
  "𐌕T 𐌗X 𐐄O 𐐕C 𐐛L 𐐠S 𐐬o 𐐽c 𐑈s 𐒴R 𐓂O 𐓎U 𐓪o 𐓶u 𐔓N 𐔖O 𐔘K 𐔜C 𐔝V 𐔥F 𐔦L 𐔧X 𑜆v 𑜊w",
  "𑜎w 𑜏w 𑢠V 𑢢F 𑢣L 𑢤Y 𑢦E 𑢩Z 𑢮E 𑢲L 𑢵O 𑢸U 𑢼T 𑣀v 𑣁s 𑣂F 𑣃i 𑣄z 𑣈o 𑣗o 𑣘u 𑣜y 𖼈V 𖼊T",
  "𖼖L 𖼨l 𖼵R 𖼺S 𖽀A 𖽂U 𖽃Y 𝚤i 𝚨A 𝚩B 𝚬E 𝚭Z 𝚮H 𝚰l 𝚱K 𝚳M 𝚴N 𝚶O 𝚸P 𝚻T 𝚼Y 𝚾X 𝛂a 𝛄y",
  "𝛊i 𝛎v 𝛐o 𝛒p 𝛔o 𝛖u 𝛠p 𝛢A 𝛣B 𝛦E 𝛧Z 𝛨H 𝛪l 𝛫K 𝛭M 𝛮N 𝛰O 𝛲P 𝛵T 𝛶Y 𝛸X 𝛼a 𝛾y 𝜄i",
  "𝜈v 𝜊o 𝜌p 𝜎o 𝜐u 𝜚p 𝜜A 𝜝B 𝜠E 𝜡Z 𝜢H 𝜤l 𝜥K 𝜧M 𝜨N 𝜪O 𝜬P 𝜯T 𝜰Y 𝜲X 𝜶a 𝜸y 𝜾i 𝝂v",
  "𝝄o 𝝆p 𝝈o 𝝊u 𝝔p 𝝖A 𝝗B 𝝚E 𝝛Z 𝝜H 𝝞l 𝝟K 𝝡M 𝝢N 𝝤O 𝝦P 𝝩T 𝝪Y 𝝬X 𝝰a 𝝲y 𝝸i 𝝼v 𝝾o",
  "𝞀p 𝞂o 𝞄u 𝞎p 𝞐A 𝞑B 𝞔E 𝞕Z 𝞖H 𝞘l 𝞙K 𝞛M 𝞜N 𝞞O 𝞠P 𝞣T 𝞤Y 𝞦X 𝞪a 𝞬y 𝞲i 𝞶v 𝞸o 𝞺p",
  "𝞼o 𝞾u 𝟈p 𝟊F",
]);

/** Letters that look like a digit (Cyrillic `З` as 3): read so only where they stand among digits. */
export const CONFUSABLE_DIGITS = pairs([
  "Ƨ2 Ʒ3 Ƽ5 Ȝ3 Ȣ8 ȣ8 Ϩ2 З3 б6 Ӡ3 Ꮞ4 Ꮾ6 ᒿ2 Ⳋ9 Ⳍ3 Ⳓ6 Ꙅ2 Ꝛ2 Ꝫ3 Ꝯ9 Ɜ3 𐌚8 𐓒7 𑢬9",
  "𑢯4 𑢻5 𑣆7 𑣊3 𑣌9 𑣕6 𑣖9 𖼻3",
]);

function pairs(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines)
    for (const pair of line.split(" ")) {
      const letter = String.fromCodePoint(pair.codePointAt(0) ?? 0);
      out[letter] = pair.slice(letter.length);
    }
  return out;
}
