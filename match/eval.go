package match

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
)

// fieldAliases maps a CSV header to the Person field it fills.
var fieldAliases = map[string]string{
	"given_name": "given", "first_name": "given", "surname": "family", "family_name": "family", "last_name": "family",
	"name": "name", "姓名": "name", "date_of_birth": "birth", "dob": "birth", "birth_date": "birth", "出生日期": "birth",
	"sex": "sex", "gender": "sex", "性别": "sex", "phone": "phone", "phone_number": "phone", "联系电话": "phone",
	"postcode": "region", "region_code": "region", "区划代码": "region", "suburb": "locality", "city": "locality",
	"address_1": "address", "address": "address", "地址": "address", "street_number": "address", "address_2": "address",
	"soc_sec_id": "id", "id_number": "id", "身份证号": "id", "email": "email",
}

// Dataset is a file of people for evaluation, with each one's true entity.
type Dataset struct {
	People []Person
	Entity []string // the truth: records of one entity share this
}

// febrlID is FEBRL's rec-<N>-org / rec-<N>-dup-<k>: the entity is N.
var febrlID = regexp.MustCompile(`^rec-(\d+)-(org|dup-\d+)$`)

// ReadDataset reads a CSV (FEBRL's ", " separators included) and takes
// the entity from the truth column; FEBRL record ids give their entity.
func ReadDataset(path, truth, idCol string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	ti, ok := col[truth]
	if !ok {
		return nil, fmt.Errorf("%s: no truth column %q (columns: %s)", path, truth, strings.Join(header, ", "))
	}
	ki, ok := col[idCol]
	if !ok {
		ki = ti
	}
	ds := &Dataset{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		var p Person
		p.Key = field(rec, ki)
		for h, i := range col {
			v := strings.TrimSpace(field(rec, i))
			switch fieldAliases[h] {
			case "given":
				p.Given = v
			case "family":
				p.Family = v
			case "name":
				p.Name = v
			case "birth":
				p.Birth = v
			case "sex":
				p.Sex = v
			case "phone":
				p.Phone = v
			case "region":
				p.Region = v
			case "locality":
				p.Locality = v
			case "address":
				p.Address = joinAddress(p.Address, h, v)
			case "id":
				if prefix, excel := ExcelPrefix(v); excel {
					p.IDPrefix = prefix // what Excel left, as linking reads it
				} else {
					p.IDNumber = Clean(v)
				}
			case "email":
				p.Email = v
			}
		}
		entity := field(rec, ti)
		if m := febrlID.FindStringSubmatch(entity); m != nil {
			entity = m[1]
		}
		ds.People = append(ds.People, p)
		ds.Entity = append(ds.Entity, entity)
	}
	return ds, nil
}

// joinAddress keeps address parts in a stable order whatever the column order.
func joinAddress(cur, header, v string) string {
	if v == "" {
		return cur
	}
	if header == "street_number" {
		return strings.TrimSpace(v + " " + cur)
	}
	return strings.TrimSpace(cur + " " + v)
}

func field(rec []string, i int) string {
	if i < len(rec) {
		return rec[i]
	}
	return ""
}

// Eval is the outcome of linking (left × right) or deduplicating one set.
type Eval struct {
	Records, Candidates, TruePairs int
	Found                          int // true pairs among the candidates (blocking recall)
	Threshold                      float64
	Precision, Recall, F1          float64
	Table                          []EvalRow // across thresholds
	Model                          *Model
	People                         []Person // left then right
	Links                          []Pair   // the pairs linked at Threshold
	Pairs                          []Pair   // every scored candidate pair
}

// EvalRow is precision and recall at one threshold.
type EvalRow struct {
	Threshold             float64
	Predicted, TP         int
	Precision, Recall, F1 float64
}

// Evaluate links right to left (right nil: deduplicates left) and scores
// the predicted links against the truth. In linkage each right record
// keeps only its best left match, as a department record belongs to one
// registry person.
func Evaluate(left, right *Dataset, threshold float64, seed uint64) *Eval {
	people := append([]Person(nil), left.People...)
	entity := append([]string(nil), left.Entity...)
	split := 0
	if right != nil {
		split = len(people)
		people = append(people, right.People...)
		entity = append(entity, right.Entity...)
	}
	latin := false
	for i := range people {
		if people[i].Given != "" {
			latin = true
			break
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	model := NewModel(Comparisons(latin), people, split, rng)
	model.Universe = float64(len(people)) * float64(len(people)-1) / 2
	if split > 0 {
		model.Universe = float64(split) * float64(len(people)-split)
	}
	pairs := model.Fit(people, split, BlockingRules(latin), 0)
	ev := &Eval{Records: len(people), Candidates: len(pairs), Threshold: threshold, Model: model, People: people}
	for _, p := range pairs {
		if entity[p.A] == entity[p.B] {
			ev.Found++
		}
	}
	if split > 0 {
		pairs = bestPerRight(pairs)
	}
	ev.Pairs = pairs
	for _, p := range pairs {
		if Prob(p.Weight) >= threshold {
			ev.Links = append(ev.Links, p)
		}
	}
	ev.TruePairs = truePairs(entity, split)
	same := func(p Pair) bool { return entity[p.A] == entity[p.B] }
	for _, t := range []float64{0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, threshold} {
		row := EvalRow{Threshold: t}
		for _, p := range pairs {
			if Prob(p.Weight) >= t {
				row.Predicted++
				if same(p) {
					row.TP++
				}
			}
		}
		row.Precision, row.Recall, row.F1 = prf(row.TP, row.Predicted, ev.TruePairs)
		if t == threshold {
			ev.Precision, ev.Recall, ev.F1 = row.Precision, row.Recall, row.F1
		} else {
			ev.Table = append(ev.Table, row)
		}
	}
	return ev
}

// bestPerRight keeps, for each right record, its highest-weighted pair.
func bestPerRight(pairs []Pair) []Pair {
	best, _ := rankPerRight(pairs)
	return best
}

// rankPerRight returns each right record's highest-weighted pair, in
// record order, and the weight of its runner-up where it has one.
func rankPerRight(pairs []Pair) ([]Pair, map[int]float64) {
	best, second := map[int]int{}, map[int]float64{}
	for i, p := range pairs {
		j, ok := best[p.B]
		switch {
		case !ok:
			best[p.B] = i
		case p.Weight > pairs[j].Weight:
			second[p.B] = pairs[j].Weight
			best[p.B] = i
		case !hasKey(second, p.B) || p.Weight > second[p.B]:
			second[p.B] = p.Weight
		}
	}
	out := make([]Pair, 0, len(best))
	for _, i := range best {
		out = append(out, pairs[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].B < out[j].B })
	return out, second
}

func hasKey(m map[int]float64, k int) bool {
	_, ok := m[k]
	return ok
}

func truePairs(entity []string, split int) int {
	if split > 0 {
		left := map[string]int{}
		for _, e := range entity[:split] {
			left[e]++
		}
		n := 0
		for _, e := range entity[split:] {
			n += left[e]
		}
		return n
	}
	count := map[string]int{}
	for _, e := range entity {
		count[e]++
	}
	n := 0
	for _, c := range count {
		n += c * (c - 1) / 2
	}
	return n
}

func prf(tp, predicted, truth int) (p, r, f float64) {
	if predicted > 0 {
		p = float64(tp) / float64(predicted)
	}
	if truth > 0 {
		r = float64(tp) / float64(truth)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}
