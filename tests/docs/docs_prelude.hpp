#pragma once
// What every documentation example may use without including it. The
// examples check their results with assert, which stays on in every build.
#undef NDEBUG
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include <eigenq/eigenq.hpp>
