package housekeeping

// StandardChecklist is the attendant's procedure of seed article 1
// (酒店客房服务员清扫房间), step by step in its order: the knock protocol,
// opening up, the minibar, the bed, dusting in the fixed order, the
// bathroom, restocking, vacuuming, locking and the status report. A room
// type may replace it with its own list.
var StandardChecklist = []ChecklistStep{
	{ID: "knock"}, {ID: "door_open"}, {ID: "curtains"}, {ID: "ashtrays"}, {ID: "minibar"}, {ID: "facilities"},
	{ID: "strip_bed"}, {ID: "make_bed"}, {ID: "pillows"}, {ID: "dust"}, {ID: "supplies"}, {ID: "teaware"},
	{ID: "bathroom"}, {ID: "linen"}, {ID: "vacuum"}, {ID: "lock"}, {ID: "report"},
}

// StandardInspection is what a supervisor checks before a room is OK房.
var StandardInspection = []ChecklistStep{
	{ID: "bed"}, {ID: "dust"}, {ID: "bathroom"}, {ID: "linen"}, {ID: "minibar"}, {ID: "equipment"},
	{ID: "teaware"}, {ID: "carpet"}, {ID: "windows"},
}
