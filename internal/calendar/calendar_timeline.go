package calendar

import (
	"time"
)

const (
	secondsPerDay = 24 * 60 * 60
	nsPerDay      = secondsPerDay * int64(time.Second)

	// The supported range keeps every instant inside int64 nanoseconds with
	// room to spare: 1900-01-02T00:00Z to 2199-12-31T00:00Z.
	supportedFrom = -2208902400
	supportedTo   = 7258032000

	minDataYear = 1901
	maxDataYear = 2198

	// maxSearchDays bounds how far an on-the-fly search reaches: the whole
	// supported range.
	maxSearchDays = (supportedTo - supportedFrom) / secondsPerDay
)

// timeline is the working time of a run of days as sorted, disjoint segments
// of instants (unix nanoseconds) with running totals, so that "how much
// working time lies before x" and "where does working time reach p" are both
// binary searches. Segments are never merged, so each belongs to one local
// date, which AddDays needs.
type timeline struct {
	// from and to bound the instants whose answers this timeline knows
	// completely (inclusive).
	from, to int64
	starts   []int64
	ends     []int64
	cumEnd   []int64 // working time up to the end of each segment
	segDay   []int32 // index into days of each segment's date
	days     []int32 // day numbers of the working days, ascending
	dayFirst []int32 // first segment of each working day; one extra at the end
}

func (tl *timeline) covers(x int64) bool { return x >= tl.from && x <= tl.to }

// segmentAt returns the index of the last segment that starts at or before
// x, or -1.
func (tl *timeline) segmentAt(x int64) int {
	lo, hi := 0, len(tl.starts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if tl.starts[mid] <= x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// position returns the working time from the timeline's start up to x.
func (tl *timeline) position(x int64) int64 {
	i := tl.segmentAt(x)
	if i < 0 {
		return 0
	}
	if x >= tl.ends[i] {
		return tl.cumEnd[i]
	}
	return tl.cumEnd[i] - (tl.ends[i] - x)
}

// instantAt returns the instant at which working position p is reached. Going
// forward, a position that falls on the boundary between two segments is the
// end of the earlier one (17:00 + 1h = 18:00 the same day); going backward it
// is the start of the later one (10:00 − 1h = 09:00). ok is false when p lies
// outside the timeline.
func (tl *timeline) instantAt(p int64, forward bool) (x int64, ok bool) {
	n := len(tl.cumEnd)
	if p < 0 || n == 0 || p > tl.cumEnd[n-1] || (!forward && p == tl.cumEnd[n-1]) {
		return 0, false
	}
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if tl.cumEnd[mid] < p || (!forward && tl.cumEnd[mid] == p) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return tl.ends[lo] - (tl.cumEnd[lo] - p), true
}

// add moves x by d of working time; ok is false when the answer is not
// inside this timeline.
func (tl *timeline) add(x int64, d time.Duration) (int64, bool) {
	if !tl.covers(x) {
		return 0, false
	}
	p := tl.position(x)
	if d > 0 && p > maxInt64-int64(d) {
		return 0, false
	}
	return tl.instantAt(p+int64(d), d > 0)
}

const maxInt64 = 1<<63 - 1

// build computes the timeline of the local dates [fromDay, toDay), clipped
// to the supported range. Its coverage starts a day after fromDay and ends a
// day before toDay, which no zone offset can cross.
func (c *Calendar) build(fromDay, toDay int) *timeline {
	fromDay = max(fromDay, int(supportedFrom/secondsPerDay)-1)
	toDay = min(toDay, int(supportedTo/secondsPerDay)+2)
	b := &timeline{
		from: int64(fromDay+1) * nsPerDay,
		to:   int64(toDay-1) * nsPerDay,
	}
	lo, hi := int64(fromDay-1)*secondsPerDay, int64(toDay+1)*secondsPerDay
	for start := lo; start < hi; {
		end, offset := c.zoneSpan(start, hi)
		c.addSpan(b, start, end, offset, fromDay, toDay)
		start = end
	}
	b.dayFirst = append(b.dayFirst, int32(len(b.starts)))
	return b
}

// zoneSpan returns the end (at most limit) and the UTC offset of the run of
// constant offset that contains the unix second start.
func (c *Calendar) zoneSpan(start, limit int64) (end, offset int64) {
	t := time.Unix(start, 0).In(c.loc)
	_, off := t.Zone()
	_, next := t.ZoneBounds()
	end = limit
	if !next.IsZero() && next.Unix() > start && next.Unix() < limit {
		end = next.Unix()
	}
	return end, int64(off)
}

// addSpan adds the working intervals of the local dates met while the
// offset stays constant. Within the span, wall clock = instant + offset, so
// a wall interval maps back to instants by subtracting the offset; wall
// times skipped by a spring-forward simply lie in no span, and wall times
// repeated by a fall-back lie in two.
func (c *Calendar) addSpan(b *timeline, start, end, offset int64, fromDay, toDay int) {
	wallStart, wallEnd := start+offset, end+offset
	firstDay := int(floorDiv(wallStart, secondsPerDay))
	lastDay := int(floorDiv(wallEnd-1, secondsPerDay))
	for day := max(firstDay, fromDay); day <= lastDay && day < toDay; day++ {
		midnight := int64(day) * secondsPerDay
		for _, iv := range c.hoursOn(day) {
			s := max(midnight+int64(iv.Start)*60, wallStart)
			e := min(midnight+int64(iv.End)*60, wallEnd)
			if s < e {
				b.appendSegment(day, (s-offset)*int64(time.Second), (e-offset)*int64(time.Second))
			}
		}
	}
}

// appendSegment adds a segment after the last one. Spans come in time order,
// so segments do too; a fall-back that crosses midnight could bring back an
// earlier date, and its segment then counts towards the later date.
func (b *timeline) appendSegment(day int, start, end int64) {
	if n := len(b.days); n == 0 || int(b.days[n-1]) < day {
		b.days = append(b.days, int32(day))
		b.dayFirst = append(b.dayFirst, int32(len(b.starts)))
	}
	total := end - start
	if n := len(b.cumEnd); n > 0 {
		total += b.cumEnd[n-1]
	}
	b.starts = append(b.starts, start)
	b.ends = append(b.ends, end)
	b.cumEnd = append(b.cumEnd, total)
	b.segDay = append(b.segDay, int32(len(b.days)-1))
}

// hoursOn returns the working intervals of a local date.
func (c *Calendar) hoursOn(day int) []Interval {
	switch c.kinds[day] {
	case dayHoliday:
		return nil
	case dayMakeUp:
		return c.week[c.makeUp]
	}
	return c.week[weekdayOfDay(day)]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// dayOf returns the local day number of the instant x (unix nanoseconds).
func (c *Calendar) dayOf(x int64) int {
	return DateOf(time.Unix(0, x).In(c.loc)).dayNumber()
}

// timelineFor returns a timeline that covers the instants from and to, the
// precomputed horizon when it does.
func (c *Calendar) timelineFor(from, to int64) *timeline {
	if c.horizon.covers(from) && c.horizon.covers(to) {
		return c.horizon
	}
	return c.build(c.dayOf(from)-1, c.dayOf(to)+2)
}
