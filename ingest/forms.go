package ingest

// The value forms departments send, as data. The Go readers of values.go
// and the SQL of the fast path (fastsql.go) are both made from these lists,
// so a form added here is read the same way by both.

// emptyMarkList is what offices write in a cell that has nothing to say.
var emptyMarkList = []string{"-", "--", "—", "——", "/", "无", "空", "null", "NULL", "N/A", "n/a"}

// sexForms maps what a sex cell says, in lower case, to the canonical
// value; "" is unknown (GB/T 2261.1's 0 and 9), which reads as blank.
var sexForms = map[string]string{
	"男": "male", "m": "male", "1": "male", "male": "male", "男性": "male",
	"女": "female", "f": "female", "2": "female", "female": "female", "女性": "female",
	"0": "", "9": "", "未知": "", "未说明": "",
}

// levelForms are a disability level's numerals; levelPrefix and
// levelSuffix may stand around them (残疾一级, 3级).
var levelForms = map[string]int32{"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}

const (
	levelPrefix = "残疾"
	levelSuffix = "级"
)

// moneyCurrency are the signs and words written around an amount,
// moneyGrouping the thousands separators; both are dropped wherever they
// stand. moneyUnits are the suffixes that scale an amount (6万 is 60,000).
var (
	moneyCurrency = []string{"¥", "￥", "元", "RMB", "人民币"}
	moneyGrouping = []string{",", " "}
	moneyUnits    = []moneyUnit{{"万", 10_000}}
)

type moneyUnit struct {
	suffix string
	scale  float64
}

// countSuffixes are taken off a head count in this order (3口人, 3人, 3口).
var countSuffixes = []string{"人", "口"}

// phoneNoise are the characters written between a phone number's digits;
// phoneCountry is the country code taken off the front.
const (
	phoneNoise   = " -+()"
	phoneCountry = "86"
)

// minYear and maxYear bound the years a date may have: earlier or later
// is a typing error, not a person's birth or a bill.
const (
	minYear = 1880
	maxYear = 2200
)

// totalsWords are what the first cell of an Excel export's totals row says.
var totalsWords = []string{"合计", "总计", "小计", "total"}

// totalsNoiseChars are dropped from that cell before it is read: 合 计,
// 合计：.
var totalsNoiseChars = []string{" ", "\u3000", ":", "："}
