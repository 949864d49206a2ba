package org

import "testing"

func TestSortTreeIsDepthFirstByNumber(t *testing.T) {
	nodes := []Node{{ID: 10, Path: "/1/2/10/"}, {ID: 2, Path: "/1/2/"}, {ID: 7, Path: "/1/2/7/"}, {ID: 1, Path: "/1/"}, {ID: 3, Path: "/1/3/"}, {ID: 11, Path: "/1/2/7/11/"}}
	sortTree(nodes)
	var got []int64
	for _, n := range nodes {
		got = append(got, n.ID)
	}
	want := []int64{1, 2, 7, 11, 10, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
