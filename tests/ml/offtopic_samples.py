"""Hand-written texts that clearly do not belong in an ML-content tagging stream.

Each sample is ``(kind, title, description)``.  Kinds: "spam", "news" (non-ML
news and everyday posts in English), "language" (any topic, including ML,
written in a language other than English) and "garbage".  Written by hand
for the out-of-distribution tests and ``python -m ml.bench_drift``; none is
copied from the dataset.
"""

SPAM = [
    (
        "Cheap replica watches - 80% OFF today only!!!",
        "Buy luxury replica watches at unbeatable prices. Free worldwide shipping, "
        "secure checkout, order now before stock runs out!",
    ),
    (
        "You have WON a $1000 Walmart gift card",
        "Congratulations! Click here to claim your prize. Offer expires in 24 hours, just pay the small delivery fee.",
    ),
    (
        "Lose 10 kg in 2 weeks with this one weird trick",
        "Doctors hate her! This natural supplement melts belly fat while you sleep. Order your trial bottle today.",
    ),
    ("Hot singles in your area are waiting", "Meet local women tonight, no sign up fee, 100% discreet. Chat now."),
    (
        "Make $5000 a week working from home",
        "No experience needed. Join thousands of moms earning passive income. Limited spots available, register today!",
    ),
    (
        "Best online casino bonus 2024",
        "Get 200 free spins and a 500% deposit bonus on slots, roulette and blackjack. Play now and win big!",
    ),
    (
        "Urgent: your account has been suspended",
        "Dear customer, we detected unusual activity. Verify your bank details immediately to avoid permanent closure.",
    ),
    (
        "Buy Instagram followers cheap",
        "Real followers, likes and views delivered instantly. Packages from $2.99. Boost your profile today!",
    ),
    (
        "Viagra cialis online pharmacy no prescription",
        "Generic pills at the lowest prices, discreet packaging, overnight delivery.",
    ),
    (
        "Crypto signals group - 300% returns guaranteed",
        "Join our VIP Telegram channel for pump alerts. Turn $100 into $10,000 in one month, guaranteed profit!",
    ),
    (
        "Cheap flights and hotel deals",
        "Book your summer vacation now and save up to 70% on resorts in Cancun, "
        "Bali and Ibiza. All inclusive packages.",
    ),
    (
        "Get a payday loan in 10 minutes",
        "Bad credit OK. Instant approval, cash in your account today. Apply online now.",
    ),
    (
        "SEO backlinks package - rank #1 on Google",
        "High DA backlinks, guest posts and PBN links. Fast results, money back guarantee.",
    ),
    (
        "Essay writing service - plagiarism free",
        "Hire a professional writer for your college homework and term papers. Cheap prices, 24/7 support, A+ grades.",
    ),
    (
        "Exclusive discount on designer handbags",
        "Gucci, Prada and Louis Vuitton bags at wholesale prices. Shop the sale now.",
    ),
    (
        "Your package could not be delivered",
        "Please confirm your address and pay the customs fee of 1.99 to reschedule delivery.",
    ),
]

NEWS = [
    (
        "City council approves new budget for road repairs",
        "The council voted 7 to 2 on Tuesday to spend 12 million dollars fixing potholes "
        "and repaving downtown streets over the next two years.",
    ),
    (
        "Lakers beat Celtics in overtime thriller",
        "LeBron James scored 38 points as Los Angeles came back from a 15-point deficit "
        "in the fourth quarter to win 121-117.",
    ),
    (
        "Heavy snow expected across the Midwest this weekend",
        "Forecasters warn of up to a foot of snow and icy roads. Residents are urged "
        "to avoid travel on Saturday night.",
    ),
    (
        "Grandma's classic apple pie recipe",
        "Flaky butter crust, cinnamon and tart green apples. Bake at 375 degrees for 50 "
        "minutes until golden and bubbling.",
    ),
    (
        "Stock markets close higher as oil prices fall",
        "The Dow rose 1.2 percent and the S&P 500 gained 0.9 percent as investors "
        "welcomed cheaper energy and strong retail earnings.",
    ),
    (
        "Prime minister announces snap election",
        "Voters will go to the polls in six weeks after the coalition collapsed over "
        "a dispute about pensions and immigration.",
    ),
    (
        "Ten tips for a better night's sleep",
        "Keep your bedroom cool and dark, avoid coffee after lunch and put your phone away an hour before bed.",
    ),
    (
        "Local bakery wins best croissant award",
        "The family-owned shop on Main Street has been baking since 1962 and now "
        "sells over a thousand croissants every Sunday.",
    ),
    (
        "Champions League final ends in penalty shootout",
        "The goalkeeper saved two penalties as the Spanish side lifted the trophy for the third time in five years.",
    ),
    (
        "Movie review: the sequel nobody asked for",
        "Despite a star cast and spectacular explosions, the plot drags and the jokes "
        "fall flat. Two stars out of five.",
    ),
    (
        "How to grow tomatoes on your balcony",
        "Pick a sunny spot, use large pots with good drainage and water deeply twice "
        "a week. Add compost in early summer.",
    ),
    (
        "Wildfire forces thousands to evacuate",
        "Strong winds pushed the blaze toward several towns overnight. Firefighters "
        "expect dry conditions to continue through Friday.",
    ),
    (
        "Celebrity couple announce divorce after 12 years",
        "The actors said in a joint statement that they remain close friends and will co-parent their three children.",
    ),
    (
        "Central bank raises interest rates again",
        "Mortgage payments are set to rise after the bank lifted its benchmark rate "
        "by a quarter point to fight inflation.",
    ),
    (
        "Travel guide: three days in Lisbon",
        "Ride the old tram 28, eat custard tarts in Belem and watch the sunset from "
        "a hilltop viewpoint over the river.",
    ),
    (
        "School board debates later start times",
        "Parents and teachers packed the meeting to discuss moving the first bell from 7:30 to 8:45 next autumn.",
    ),
    (
        "Marathon runner breaks course record",
        "The Kenyan athlete finished in 2 hours 4 minutes, beating the previous record "
        "by almost a minute despite the heat.",
    ),
    (
        "Best hiking boots for winter 2024",
        "We tested twelve pairs of waterproof boots on muddy trails and snowy peaks. "
        "Here are our favourites for every budget.",
    ),
    (
        "Museum reopens after two-year renovation",
        "Visitors can once again see the dinosaur skeletons and the newly restored "
        "Egyptian gallery, with free entry on Sundays.",
    ),
    (
        "Dog adoption event this Saturday at the park",
        "Over forty rescue dogs and puppies are looking for loving homes. Volunteers "
        "will be on hand to answer questions.",
    ),
]

LANGUAGE = [
    (
        "Les meilleures recettes de cuisine française",
        "Découvrez nos recettes faciles pour le dîner : boeuf bourguignon, ratatouille "
        "et tarte aux pommes, prêtes en moins d'une heure.",
    ),
    (
        "Apprentissage profond pour la vision par ordinateur",
        "Un cours complet sur les réseaux de neurones convolutifs, avec des exemples "
        "en Python et des exercices corrigés pour les étudiants.",
    ),
    (
        "Die besten Wanderwege in den Alpen",
        "Wir stellen euch die schönsten Touren für Anfänger und Profis vor, mit Karten "
        "und Tipps für die Übernachtung auf der Hütte.",
    ),
    (
        "Einführung in maschinelles Lernen mit Python",
        "In diesem Kurs lernen Sie die Grundlagen der Klassifikation und Regression "
        "und wie man Modelle mit scikit-learn trainiert.",
    ),
    (
        "Ofertas increíbles en zapatos deportivos",
        "Compra ahora y obtén un descuento del 50% en todas las marcas. Envío gratis "
        "a toda España por compras superiores a 30 euros.",
    ),
    (
        "Cómo entrenar una red neuronal desde cero",
        "En este tutorial explicamos paso a paso cómo programar una red neuronal "
        "sencilla en Python sin usar ninguna librería.",
    ),
    (
        "Receitas fáceis para o jantar da semana",
        "Pratos rápidos e saudáveis para quem não tem tempo: frango grelhado, salada de grão e sopa de legumes.",
    ),
    (
        "Aprendizado de máquina na prática com dados reais",
        "Um guia para iniciantes sobre como limpar os dados, escolher um modelo e "
        "avaliar os resultados com validação cruzada.",
    ),
    (
        "La migliore pizza napoletana di Roma",
        "Abbiamo provato venti pizzerie del centro e questa è la nostra classifica, con prezzi e orari di apertura.",
    ),
    (
        "Reti neurali per il riconoscimento delle immagini",
        "Un articolo che spiega come funzionano le reti convoluzionali e come "
        "addestrarle su un piccolo insieme di foto.",
    ),
    (
        "Nieuwe fietspaden in het centrum van Utrecht",
        "De gemeente investeert dit jaar twintig miljoen euro in veiligere routes voor fietsers en voetgangers.",
    ),
    (
        "Bästa sättet att odla tomater hemma",
        "Så här får du stora och söta tomater på balkongen, med tips om jord, vattning och gödsel under hela sommaren.",
    ),
    (
        "Najlepsze przepisy na świąteczne ciasta",
        "Sernik, makowiec i piernik według tradycyjnych receptur naszych babć. Zobacz, jak je upiec krok po kroku.",
    ),
    (
        "İstanbul'da gezilecek en güzel yerler",
        "Ayasofya, Topkapı Sarayı ve Kapalıçarşı için kısa bir rehber. Boğaz turu için de önerilerimiz var.",
    ),
    (
        "Cara mudah belajar bahasa Inggris",
        "Tips sederhana untuk meningkatkan kemampuan berbicara dan mendengar dalam waktu singkat, cocok untuk pemula.",
    ),
    (
        "Как приготовить идеальный борщ",
        "Пошаговый рецепт с фотографиями: свекла, капуста, картофель и говядина. Подавайте со сметаной и чесноком.",
    ),
    (
        "Нейронные сети для обработки естественного языка",
        "Обзор современных архитектур трансформеров и примеры их применения для "
        "классификации текстов на русском языке.",
    ),
    ("机器学习入门教程", "本教程介绍了监督学习和无监督学习的基本概念，并使用Python实现了线性回归和决策树。"),
    ("北京今天天气晴朗，适合出游", "气象台预计今天最高气温二十八度，风力较小，建议市民外出时注意防晒。"),
    (
        "東京で人気のラーメン店ランキング",
        "行列のできる名店から隠れた名店まで、編集部が実際に食べ歩いたおすすめのお店を紹介します。",
    ),
    (
        "深層学習による画像認識の基礎",
        "畳み込みニューラルネットワークの仕組みと、PyTorchを使った実装方法をわかりやすく解説します。",
    ),
    ("서울 맛집 베스트 10", "현지인이 추천하는 숨은 맛집과 가격, 영업시간 정보를 정리했습니다."),
    ("أفضل الأماكن السياحية في دبي", "دليل شامل لزيارة برج خليفة والنافورة الراقصة والتسوق في أكبر المراكز التجارية."),
    ("भारत में क्रिकेट का नया सीज़न शुरू", "इस साल टूर्नामेंट में दस टीमें हिस्सा लेंगी और फाइनल मुंबई में खेला जाएगा।"),
    ("Hướng dẫn nấu phở bò tại nhà", "Cách hầm xương để có nước dùng trong và ngọt, cùng các loại gia vị cần thiết."),
    (
        "Η καλύτερη εποχή για διακοπές στην Ελλάδα",
        "Ο Ιούνιος και ο Σεπτέμβριος προσφέρουν ζεστή θάλασσα και λιγότερο κόσμο στα νησιά.",
    ),
]

GARBAGE = [
    ("", ""),
    ("   ", "\n\t "),
    ("asdfghjkl", "qwertyuiop zxcvbnm"),
    ("sdfsdfsdf", "jkljkljkl asdasdasd"),
    ("aaaaaaaaaaaaaaaaaa", ""),
    ("!!!!!!!!!!!!!!", "??????????"),
    ("1234567890", "0987654321 1111 2222 3333"),
    ("test", ""),
    ("$$$ ### %%% @@@", "*** &&& ^^^"),
    ("lol lol lol lol lol", "lol lol lol lol"),
    ("xcvbnm qwerty", "hjkl fdsa"),
    ("....", "----- ===== -----"),
    ("ok", "k"),
    ("zzzzzzzzzz", "zzzzzzzzzzzzz"),
    ("12/03/2021 14:55", "#4471-2290-3381"),
    ("dfkjgh skdjfh wieury", "xmcnvb qpwoei alskdj"),
]

KINDS = {"spam": SPAM, "news": NEWS, "language": LANGUAGE, "garbage": GARBAGE}

OFFTOPIC: list[tuple[str, str, str]] = [
    (kind, title, description) for kind, samples in KINDS.items() for title, description in samples
]
