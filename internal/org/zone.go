package org

import "time"

func validZone(name string) bool {
	_, err := time.LoadLocation(name)
	return err == nil
}
