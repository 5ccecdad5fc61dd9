package demo

// The fixed vocabulary of the demo store: what it sells, who buys, where
// they live. Everything here is invented; phone numbers use ranges reserved
// for fiction (US 555-01xx) or are random mobile-shaped digits.

// Product is an item the demo store sells, priced in USD cents.
type Product struct {
	SKU   string
	Name  string
	Price int64
	// weight is the relative popularity when a line is drawn.
	weight int
	// set says customers commonly buy several (mugs, plates, bowls).
	set bool
}

var products = []Product{
	{SKU: "MUG-BLU-12", Name: "Speckled Mug - Blue / 12 oz", Price: 2800, weight: 16, set: true},
	{SKU: "MUG-WHT-12", Name: "Speckled Mug - White / 12 oz", Price: 2800, weight: 13, set: true},
	{SKU: "MUG-CHR-16", Name: "Tall Mug - Charcoal / 16 oz", Price: 3200, weight: 8, set: true},
	{SKU: "BWL-SGE-6", Name: "Ramen Bowl - Sage / 6 in", Price: 4200, weight: 9, set: true},
	{SKU: "BWL-OAT-4", Name: "Dip Bowls - Oatmeal / Set of 2", Price: 2400, weight: 7},
	{SKU: "PLT-OAT-10", Name: "Dinner Plate - Oatmeal / 10 in", Price: 3600, weight: 8, set: true},
	{SKU: "PLT-OAT-8", Name: "Salad Plate - Oatmeal / 8 in", Price: 3000, weight: 6, set: true},
	{SKU: "VAS-TER-BUD", Name: "Bud Vase - Terracotta", Price: 2400, weight: 7},
	{SKU: "VAS-CHR-TALL", Name: "Tall Vase - Charcoal", Price: 6800, weight: 4},
	{SKU: "TEA-CEL-POT", Name: "Celadon Teapot / 600 ml", Price: 9500, weight: 4},
	{SKU: "TEA-CEL-CUP2", Name: "Celadon Tea Cups / Set of 2", Price: 3800, weight: 6},
	{SKU: "PLN-WHT-SM", Name: "Planter with Saucer - White / Small", Price: 3200, weight: 5},
	{SKU: "LIN-NAT-NAP4", Name: "Linen Napkins - Natural / Set of 4", Price: 3400, weight: 4},
	{SKU: "CND-HNK-200", Name: "Hinoki Candle / 200 g", Price: 2600, weight: 6},
}

// twName is a Taiwanese name part in characters and in the Wade-Giles
// romanisation Taiwanese passports use.
type twName struct{ zh, en string }

var twSurnames = []twName{
	{"陳", "Chen"}, {"林", "Lin"}, {"黃", "Huang"}, {"張", "Chang"}, {"李", "Lee"}, {"王", "Wang"},
	{"吳", "Wu"}, {"劉", "Liu"}, {"蔡", "Tsai"}, {"楊", "Yang"}, {"許", "Hsu"}, {"鄭", "Cheng"},
	{"謝", "Hsieh"}, {"郭", "Kuo"}, {"洪", "Hung"}, {"曾", "Tseng"}, {"邱", "Chiu"}, {"廖", "Liao"},
	{"賴", "Lai"}, {"周", "Chou"}, {"徐", "Hsu"}, {"蘇", "Su"}, {"葉", "Yeh"}, {"莊", "Chuang"},
	{"呂", "Lu"}, {"江", "Chiang"}, {"何", "Ho"}, {"蕭", "Hsiao"}, {"羅", "Lo"}, {"高", "Kao"},
}

var twGiven = []twName{
	{"怡君", "Yi-Chun"}, {"雅婷", "Ya-Ting"}, {"家豪", "Chia-Hao"}, {"志明", "Chih-Ming"}, {"淑芬", "Shu-Fen"},
	{"冠宇", "Kuan-Yu"}, {"宗翰", "Tsung-Han"}, {"佳穎", "Chia-Ying"}, {"詩涵", "Shih-Han"}, {"俊傑", "Chun-Chieh"},
	{"美玲", "Mei-Ling"}, {"承恩", "Cheng-En"}, {"品妍", "Pin-Yen"}, {"柏翰", "Po-Han"}, {"欣怡", "Hsin-Yi"},
	{"建宏", "Chien-Hung"}, {"雅雯", "Ya-Wen"}, {"郁婷", "Yu-Ting"}, {"思妤", "Szu-Yu"}, {"宜蓁", "Yi-Chen"},
	{"冠廷", "Kuan-Ting"}, {"彥廷", "Yen-Ting"}, {"家瑋", "Chia-Wei"}, {"信宏", "Hsin-Hung"}, {"宛婷", "Wan-Ting"},
	{"佩珊", "Pei-Shan"}, {"育誠", "Yu-Cheng"}, {"政霖", "Cheng-Lin"}, {"筱涵", "Hsiao-Han"}, {"子晴", "Tzu-Ching"},
}

// twEnglishGiven are English given names Taiwanese customers often use.
var twEnglishGiven = []string{
	"Vivian", "Kevin", "Irene", "Jason", "Tiffany", "Eric", "Peggy", "Allen", "Cindy", "Leo",
	"Winnie", "Ray", "Joanne", "Frank", "Sandy", "Alvin",
}

var westernFirst = []string{
	"Emily", "Olivia", "Ava", "Sophia", "Mia", "Charlotte", "Amelia", "Harper", "Grace", "Chloe",
	"Hannah", "Zoe", "Lily", "Nora", "Claire", "Maya", "Sarah", "Rachel", "Laura", "Megan",
	"Jessica", "Anna", "Julia", "Isabel", "Sofía", "Camila", "Priya", "Aisha", "Ingrid", "Freya",
	"James", "Liam", "Noah", "Oliver", "Elijah", "Lucas", "Mason", "Ethan", "Henry", "Daniel",
	"Samuel", "Benjamin", "Jack", "Owen", "Ryan", "Nathan", "Matthew", "David", "Michael", "Thomas",
	"Andrew", "Joseph", "Mateo", "Diego", "Luca", "Finn", "Rafael", "Omar", "Arjun", "Kenji",
}

var westernLast = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martínez",
	"Hernández", "Lopez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Thompson", "White",
	"Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
	"Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
	"Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Murphy", "Cook", "Morgan", "Cooper",
	"Reed", "Bailey", "Kelly", "O'Brien", "Nguyen", "Kim", "Patel", "Sullivan", "Schmidt", "Müller",
	"Bergström", "Rossi", "Dubois", "Novak", "Kowalski", "Tanaka", "Okafor", "Lindqvist",
}

type domain struct {
	name   string
	weight int
}

// Demo customers' addresses use only domains reserved for examples (RFC
// 2606: example.com, example.org, example.net and .test), so a demo with
// SMTP configured never emails a real person.
var twDomains = []domain{{"example.com", 45}, {"mail.tw.test", 25}, {"example.net", 10}, {"example.org", 10}, {"post.tw.test", 10}}

var westernDomains = []domain{
	{"example.com", 45}, {"example.org", 14}, {"example.net", 14}, {"mail.test", 10}, {"inbox.test", 6},
	{"post.test", 6}, {"letters.test", 5},
}

// twPlace is a Taiwanese district with its postal code, in characters and
// romanised.
type twPlace struct {
	cityZH, cityEN, distZH, distEN, zip string
}

var twPlaces = []twPlace{
	{"臺北市", "Taipei City", "大安區", "Da'an Dist.", "106"},
	{"臺北市", "Taipei City", "信義區", "Xinyi Dist.", "110"},
	{"臺北市", "Taipei City", "中山區", "Zhongshan Dist.", "104"},
	{"臺北市", "Taipei City", "內湖區", "Neihu Dist.", "114"},
	{"臺北市", "Taipei City", "士林區", "Shilin Dist.", "111"},
	{"新北市", "New Taipei City", "板橋區", "Banqiao Dist.", "220"},
	{"新北市", "New Taipei City", "新店區", "Xindian Dist.", "231"},
	{"臺中市", "Taichung City", "西屯區", "Xitun Dist.", "407"},
	{"高雄市", "Kaohsiung City", "苓雅區", "Lingya Dist.", "802"},
	{"臺南市", "Tainan City", "東區", "East Dist.", "701"},
	{"新竹市", "Hsinchu City", "東區", "East Dist.", "300"},
}

var twRoads = []twName{
	{"忠孝東路四段", "Sec. 4, Zhongxiao E. Rd."}, {"復興南路一段", "Sec. 1, Fuxing S. Rd."},
	{"和平東路二段", "Sec. 2, Heping E. Rd."}, {"信義路五段", "Sec. 5, Xinyi Rd."},
	{"民生東路三段", "Sec. 3, Minsheng E. Rd."}, {"中山北路二段", "Sec. 2, Zhongshan N. Rd."},
	{"文心路三段", "Sec. 3, Wenxin Rd."}, {"中正路", "Zhongzheng Rd."}, {"成功路", "Chenggong Rd."},
	{"光復路二段", "Sec. 2, Guangfu Rd."}, {"民族路", "Minzu Rd."}, {"永康街", "Yongkang St."},
}

// place is a city with its state or province, a postal code in it and the
// format of a fictional local phone number.
type place struct {
	city, state, zip, country string
	phone                     string // format with one %02d verb
}

var places = []place{
	{"Brooklyn", "NY", "11211", "United States", "+1 718-555-01%02d"},
	{"New York", "NY", "10003", "United States", "+1 212-555-01%02d"},
	{"San Francisco", "CA", "94110", "United States", "+1 415-555-01%02d"},
	{"Los Angeles", "CA", "90026", "United States", "+1 323-555-01%02d"},
	{"Oakland", "CA", "94610", "United States", "+1 510-555-01%02d"},
	{"Seattle", "WA", "98122", "United States", "+1 206-555-01%02d"},
	{"Portland", "OR", "97214", "United States", "+1 503-555-01%02d"},
	{"Austin", "TX", "78704", "United States", "+1 512-555-01%02d"},
	{"Chicago", "IL", "60647", "United States", "+1 773-555-01%02d"},
	{"Denver", "CO", "80205", "United States", "+1 303-555-01%02d"},
	{"Boston", "MA", "02130", "United States", "+1 617-555-01%02d"},
	{"Philadelphia", "PA", "19125", "United States", "+1 215-555-01%02d"},
	{"Minneapolis", "MN", "55408", "United States", "+1 612-555-01%02d"},
	{"Atlanta", "GA", "30307", "United States", "+1 404-555-01%02d"},
	{"Asheville", "NC", "28801", "United States", "+1 828-555-01%02d"},
}

var intlPlaces = []place{
	{"Toronto", "ON", "M6J 1G4", "Canada", "+1 416-555-01%02d"},
	{"Vancouver", "BC", "V5T 2Y2", "Canada", "+1 604-555-01%02d"},
	{"London", "", "E8 3RL", "United Kingdom", "+44 20 7946 00%02d"},
	{"Melbourne", "VIC", "3065", "Australia", "+61 3 5550 01%02d"},
	{"Berlin", "", "10435", "Germany", "+49 30 5550 01%02d"},
}

var usStreets = []string{
	"Bedford Ave", "Maple Ave", "Oak St", "Elm St", "Cedar Ln", "Park Pl", "Washington St", "Lincoln Ave",
	"Pine St", "Hawthorne Blvd", "Valencia St", "Division St", "Grand St", "Church St", "Highland Ave",
	"Magnolia Dr", "Sunset Blvd", "Water St", "Franklin Ave", "Mission St",
}

// wholesaleBuyer is a shop or café that buys in bulk on invoice.
type wholesaleBuyer struct {
	company, contact, email string
	taiwan                  bool
}

var wholesaleBuyers = []wholesaleBuyer{
	{"Hearth & Table", "Nora Campbell", "orders@hearthandtable.test", false},
	{"Morning Ritual Café", "Diego Martínez", "buying@morningritual.test", false},
	{"Slow Bloom Florals", "Freya Lindqvist", "hello@slowbloomflorals.test", false},
	{"Kiln & Crumb Bakery", "Owen Murphy", "owen@kilnandcrumb.test", false},
	{"小日子咖啡", "林佩珊", "order@smalldays.tw.test", true},
	{"森林書店", "張冠宇", "books@forestbooks.tw.test", true},
	{"Good Day Grocery", "Aisha Okafor", "purchasing@gooddaygrocery.test", false},
	{"Fern & Feather", "Claire Dubois", "claire@fernandfeather.test", false},
}

var giftMessages = []string{
	"Gift message: Happy housewarming! Love, Mia",
	"Gift message: Happy birthday, Mom!",
	"Gift message: Congratulations on the new place!",
	"Gift message: 生日快樂！",
	"Gift message: 新居落成，恭喜！",
	"Gift message: Thank you for everything this year.",
	"Gift message: Merry Christmas from all of us",
}

var plainNotes = []string{
	"Please leave at the front desk.",
	"Leave with the building manager if no one is home.",
	"請放管理室，謝謝",
	"Can you double-box the teapot? The last one arrived chipped.",
	"Deliver after 6pm please.",
	"平日白天不在家，請寄到公司地址",
	"No invoice in the box please, it's a present.",
}

var rushNotes = []string{
	"Need this by Friday for a birthday, thank you!",
	"Is there any way to ship this today? Housewarming on Saturday.",
	"請盡快出貨，週末要送人",
}
