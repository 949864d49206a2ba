package housekeeping

// PlanRoom is a room to clean, as the planner sees it.
type PlanRoom struct {
	Floor   int
	Credits int
}

// Plan shares rooms among attendants by credits. rooms must be in walking
// order (by floor, then number). It returns, for each room, the index of
// its attendant, or -1 when every attendant is at the cap.
//
// It uses as many attendants as the work needs (enough that nobody passes
// maxRooms, few enough that each has at least minRooms, never more than
// there are) and gives each a run of consecutive rooms whose credits come
// as close as possible to an even share of what is left, ending the run at
// a floor change when that is near the share. Consecutive runs keep every
// attendant on as few, adjacent floors as possible. Linear in the rooms.
func Plan(rooms []PlanRoom, attendants, minRooms, maxRooms int) []int {
	n := len(rooms)
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	if n == 0 || attendants <= 0 {
		return out
	}
	if maxRooms <= 0 {
		maxRooms = n
	}
	if minRooms <= 0 || minRooms > maxRooms {
		minRooms = 1
	}
	k := (n + maxRooms - 1) / maxRooms
	if byMin := n / minRooms; byMin > k {
		k = byMin
	}
	k = max(1, min(k, attendants))
	remaining := 0
	for _, r := range rooms {
		remaining += r.Credits
	}
	i := 0
	for a := 0; a < k && i < n; a++ {
		left := k - a
		target := float64(remaining) / float64(left)
		acc, taken := 0, 0
		for i < n && taken < maxRooms {
			if taken > 0 && left > 1 {
				// Those after this one must be able to take the rest.
				mustTake := (n - i) > (left-1)*maxRooms
				c := float64(rooms[i].Credits)
				if !mustTake && float64(acc)+c/2 > target {
					break
				}
				if !mustTake && rooms[i].Floor != rooms[i-1].Floor && float64(acc) >= 0.85*target {
					break
				}
			}
			out[i] = a
			acc += rooms[i].Credits
			taken++
			i++
		}
		remaining -= acc
	}
	return out
}
