package onion

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sessionsim/sessionsim/protocol/wirejson"
)

// The JSON objects of onion requests are read with wirejson, the storage server's grammar; these
// read their fields with the server's type rules.

// parseObject reads b, which must be exactly one JSON object.
func parseObject(b []byte) (wirejson.Value, error) {
	v, err := wirejson.Parse(b)
	if err != nil {
		return v, err
	}
	if v.Kind != wirejson.Object {
		return v, fmt.Errorf("json: a %v, want an object", v.Kind)
	}
	return v, nil
}

func stringField(v wirejson.Value) (string, error) {
	if v.Kind != wirejson.String {
		return "", errors.New("not a string")
	}
	return v.Text(), nil
}

func hexKey(v wirejson.Value) ([32]byte, error) {
	var k [32]byte
	if v.Kind != wirejson.String {
		return k, errors.New("not a string")
	}
	s := v.Bytes()
	if len(s) != 64 {
		return k, fmt.Errorf("%d hex digits, want 64", len(s))
	}
	_, err := hex.Decode(k[:], s)
	return k, err
}

func encTypeField(v wirejson.Value) (EncType, error) {
	s, err := stringField(v)
	if err != nil {
		return 0, err
	}
	return ParseEncType(s)
}

// intField reads a JSON number as an int the way the storage server's get<int>() does: a
// fraction is truncated; values beyond int32 are clamped.
func intField(v wirejson.Value) (int, error) {
	if v.Kind != wirejson.Number {
		return 0, errors.New("not a number")
	}
	f, err := strconv.ParseFloat(string(v.Raw), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s out of range", v.Raw)
	}
	return int(min(max(f, math.MinInt32), math.MaxInt32)), nil
}

func boolField(v wirejson.Value) (bool, error) {
	b, ok := v.Bool()
	if !ok {
		return false, errors.New("not a boolean")
	}
	return b, nil
}

func headersField(v wirejson.Value) (map[string]string, error) {
	if v.Kind == wirejson.Null {
		return nil, nil
	}
	var h map[string]string
	if err := json.Unmarshal(v.Raw, &h); err != nil {
		return nil, err
	}
	return h, nil
}
