package housekeeping

import (
	"html"
	"html/template"
	"strconv"
	"strings"
)

// The board's grid is written here rather than by the template engine: a
// thousand rooms through nested templates took about 100 ms a render,
// written directly it takes about one. The board's script redraws a cell
// the same way from the JSON of a live event (hk_board.html); keep the two
// in step.

// gridHTML writes the floors and rooms of a board; rooms that do not pass
// the filter are written hidden, so live counts stay right and the filter
// can change without a reload.
func gridHTML(b *RoomBoard, f RoomFilter, w map[string]string) template.HTML {
	var sb strings.Builder
	sb.Grow(len(b.Floors) * 16 * 480)
	for _, fl := range b.Floors {
		floor := html.EscapeString(strings.ReplaceAll(w["floor_n"], "{n}", strconv.Itoa(fl.Floor)))
		sb.WriteString(`<section class="floor" aria-label="`)
		sb.WriteString(floor)
		sb.WriteString(`"><h2>`)
		sb.WriteString(floor)
		sb.WriteString(`</h2><div class="rooms">`)
		for i := range fl.Rooms {
			cellHTML(&sb, &fl.Rooms[i], !f.Match(&fl.Rooms[i]), w)
		}
		sb.WriteString("</div></section>\n")
	}
	return template.HTML(sb.String())
}

func cellHTML(sb *strings.Builder, r *Room, hidden bool, w map[string]string) {
	esc := html.EscapeString
	id := strconv.FormatInt(r.ID, 10)
	sb.WriteString(`<div class="room c-`)
	sb.WriteString(r.Code)
	if r.Ready {
		sb.WriteString(" ready")
	}
	if r.Discrepancy != "" {
		sb.WriteString(" disc")
	}
	sb.WriteString(`" id="room-`)
	sb.WriteString(id)
	sb.WriteString(`" data-id="`)
	sb.WriteString(id)
	sb.WriteString(`" data-floor="`)
	sb.WriteString(strconv.Itoa(r.Floor))
	sb.WriteString(`" data-code="`)
	sb.WriteString(r.Code)
	sb.WriteString(`" data-cleaning="`)
	sb.WriteString(r.Cleaning)
	sb.WriteString(`" data-ready="`)
	if r.Ready {
		sb.WriteString("1")
	}
	sb.WriteString(`" data-disc="`)
	sb.WriteString(r.Discrepancy)
	sb.WriteString(`" data-flags="`)
	sb.WriteString(esc(strings.Join(r.Flags, ",")))
	sb.WriteString(`" data-attendant="`)
	sb.WriteString(strconv.FormatInt(r.AttendantID, 10))
	sb.WriteString(`"`)
	if hidden {
		sb.WriteString(" hidden")
	}
	sb.WriteString(`><label class="r-pick"><input type="checkbox" name="room_ids" value="`)
	sb.WriteString(id)
	sb.WriteString(`" form="bulk-form" aria-label="`)
	sb.WriteString(esc(r.Number))
	sb.WriteString(`"></label><a href="/hk/rooms/`)
	sb.WriteString(id)
	sb.WriteString(`"><span class="r-num">`)
	sb.WriteString(esc(r.Number))
	sb.WriteString(`</span><span class="r-code">`)
	sb.WriteString(r.Code)
	sb.WriteString(`</span><span class="r-word">`)
	word := w["code."+r.Code]
	if r.Code == CodeVC && r.Ready {
		word = w["code.VC.ready"]
	}
	sb.WriteString(esc(word))
	sb.WriteString(`</span><span class="r-clean">`)
	sb.WriteString(esc(w["cleaning."+r.Cleaning]))
	sb.WriteString(`</span><span class="r-flags">`)
	for _, f := range r.Flags {
		sb.WriteString("<i>")
		sb.WriteString(esc(w["flag."+f]))
		sb.WriteString("</i>")
	}
	if r.Discrepancy != "" {
		sb.WriteString(`<i class="d">`)
		sb.WriteString(esc(w["disc."+r.Discrepancy]))
		sb.WriteString("</i>")
	}
	sb.WriteString(`</span><span class="r-att">`)
	sb.WriteString(esc(r.AttendantName))
	sb.WriteString("</span></a></div>")
}
