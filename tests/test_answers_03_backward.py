"""Lesson 03's tests against students' answers: each common mistake gets a message that
names it, and each correct alternative passes everything."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import solution, test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow


ORDER = "backward_topological_order"
BACKWARD = "backward_backward_pass"
PATHS = "backward_count_paths"
ZERO = "backward_zero_grad"
JACOBIAN = "backward_jacobian"

BFS_ORDER = """\
from collections import deque


def topological_order(root):
    order, seen, queue = [], {root}, deque([root])
    while queue:
        node = queue.popleft()
        order.append(node)
        for p in node._prev:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    return order[::-1]
"""

PREORDER_REVERSED = """\
def topological_order(root):
    order, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(node._prev)
    return order[::-1]
"""

WRONG = [
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for p in n._prev:
            visit(p)
        order.append(n)

    visit(root)
    return order
""",
        "RecursionError",
        id="order-recursive",
    ),
    pytest.param(ORDER, PREORDER_REVERSED, "comes before its operand", id="order-preorder"),
    pytest.param(ORDER, BFS_ORDER, "breadth-first", id="order-bfs-reversed"),
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    order, seen = [], {root}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        for p in node._prev:
            if p not in seen:
                seen.add(p)
                stack.append((p, False))
    return order
""",
        "when it is pushed",
        id="order-visited-at-push",
    ),
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    order, seen = [], {root}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        for p in reversed(node._prev):
            if p not in seen:
                seen.add(p)
                stack.append((p, False))
    return order
""",
        "comes before its operand",
        id="order-visited-at-push-reversed",
    ),
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    order, expanded, stack = [], [], [root]
    while stack:
        node = stack[-1]
        if node not in expanded:
            expanded.append(node)
            for p in node._prev:
                if p not in expanded:
                    stack.append(p)
        else:
            stack.pop()
            if node not in order:
                order.append(node)
    return order
""",
        "use a set",
        id="order-list-membership",
    ),
    pytest.param(
        BACKWARD,
        """\
def backward(root):
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        for operand, local in zip(node._prev, node._local_grads):
            operand.grad = local * node.grad
""",
        "`+=`",
        id="backward-assign",
    ),
    pytest.param(
        BACKWARD,
        """\
def backward(root):
    root.grad = 1.0
    for node in topological_order(root):
        for operand, local in zip(node._prev, node._local_grads):
            operand.grad += local * node.grad
""",
        "forwards instead of reversed",
        id="backward-forward-order",
    ),
    pytest.param(
        BACKWARD,
        """\
def backward(root):
    for node in reversed(topological_order(root)):
        for operand, local in zip(node._prev, node._local_grads):
            operand.grad += local * node.grad
""",
        "seed",
        id="backward-no-seed",
    ),
    pytest.param(
        BACKWARD,
        """\
def backward(root):
    root.grad = 1.0

    def push(node, g):
        for operand, local in zip(node._prev, node._local_grads):
            operand.grad += local * g
            push(operand, local * g)

    push(root, 1.0)
""",
        "every path",
        id="backward-recursive-push",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    paths = {root: 1}
    for user in reversed(topological_order(root)):
        for operand in user._prev:
            paths[operand] = paths[user]
    return paths.get(node, 0)
""",
        "`+=`",
        id="paths-assign",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    paths = {root: 1}
    for user in reversed(topological_order(root)):
        for operand in set(user._prev):
            paths[operand] = paths.get(operand, 0) + paths[user]
    return paths.get(node, 0)
""",
        "two edges",
        id="paths-set-prev",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    if root is node:
        return 1
    return sum(count_paths(p, node) for p in root._prev)
""",
        "Memoise",
        id="paths-enumerate",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    total, stack = 0, [root]
    while stack:
        u = stack.pop()
        if u is node:
            total += 1
        else:
            stack.extend(u._prev)
    return total
""",
        "Memoise",
        id="paths-enumerate-stack",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    memo = {}

    def paths_from(u):
        if u is node:
            return 1
        if u not in memo:
            memo[u] = sum(paths_from(p) for p in u._prev)
        return memo[u]

    return paths_from(root)
""",
        "RecursionError",
        id="paths-memo-recursive",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    paths = {root: 1}
    for user in reversed(topological_order(root)):
        for operand in user._prev:
            paths[operand] = paths.get(operand, 0) + paths[user]
    return paths[node]
""",
        "KeyError",
        id="paths-keyerror-outsider",
    ),
    pytest.param(
        ZERO,
        """\
def zero_grad(root):
    for node in topological_order(root):
        if not node._prev:
            node.grad = 0.0
""",
        "an intermediate node",
        id="zero-leaves-only",
    ),
    pytest.param(
        ZERO,
        """\
def zero_grad(root):
    root.grad = 0.0
    for p in root._prev:
        zero_grad(p)
""",
        "RecursionError",
        id="zero-recursive",
    ),
    pytest.param(
        JACOBIAN,
        """\
def jacobian(outputs, inputs):
    rows = []
    for out in outputs:
        backward(out)
        rows.append([x.grad for x in inputs])
    return rows
""",
        "forget to zero",
        id="jacobian-no-zero",
    ),
    pytest.param(
        JACOBIAN,
        """\
def jacobian(outputs, inputs):
    rows = []
    for out in outputs:
        zero_grad(out)
        backward(out)
        rows.append([x.grad for x in inputs])
    return rows
""",
        "Zero the inputs' grads too",
        id="jacobian-graph-only",
    ),
]

RIGHT = [
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    users, seen, stack = {}, {root}, [root]
    while stack:
        node = stack.pop()
        for p in node._prev:
            users[p] = users.get(p, 0) + 1
            if p not in seen:
                seen.add(p)
                stack.append(p)
    ready, out = [root], []
    while ready:
        node = ready.pop()
        out.append(node)
        for p in node._prev:
            users[p] -= 1
            if users[p] == 0:
                ready.append(p)
    return out[::-1]
""",
        id="order-kahn",
    ),
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    order, visited = [], {root}
    stack = [(root, iter(root._prev))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if p not in visited:
                visited.add(p)
                stack.append((p, iter(p._prev)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
""",
        id="order-iterator-stack",
    ),
    pytest.param(
        ORDER,
        """\
def topological_order(root):
    order, placed, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            if node not in placed:
                placed.add(node)
                order.append(node)
        elif node not in placed:
            stack.append((node, True))
            stack.extend((p, False) for p in node._prev if p not in placed)
    return order
""",
        id="order-done-flag",
    ),
    pytest.param(
        BACKWARD,
        """\
def backward(root):
    grads = {root: 1.0}
    for node in reversed(topological_order(root)):
        g = grads.get(node, 0.0)
        node.grad += g
        for operand, local in zip(node._prev, node._local_grads):
            grads[operand] = grads.get(operand, 0.0) + local * g
""",
        id="backward-dict",
    ),
    pytest.param(
        BACKWARD,
        """\
def backward(root):
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        print("visiting", node.data)  # a debugging print left in: not a mistake
        for operand, local in zip(node._prev, node._local_grads):
            operand.grad += local * node.grad
""",
        id="backward-debug-print",
    ),
    pytest.param(
        PATHS,
        """\
def count_paths(root, node):
    ways = {}
    for u in topological_order(root):
        ways[u] = 1 if u is node else sum(ways[p] for p in u._prev)
    return ways[root]
""",
        id="paths-forward",
    ),
    pytest.param(
        ZERO,
        """\
def zero_grad(root):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        node.grad = 0.0
        stack.extend(node._prev)
""",
        id="zero-stack",
    ),
    pytest.param(
        JACOBIAN,
        """\
def jacobian(outputs, inputs):
    J = [[0.0] * len(inputs) for _ in outputs]
    for i, out in enumerate(outputs):
        for o in outputs:
            zero_grad(o)
        for x in inputs:
            zero_grad(x)
        backward(out)
        for j, x in enumerate(inputs):
            J[i][j] = float(x.grad)
    return J
""",
        id="jacobian-zero-everything",
    ),
]


def test_count_paths_blames_a_broken_topological_order(lesson):
    """count_paths walks the student's topological_order: a wrong order must be named as
    such, not as `=` instead of `+=`."""
    instructors = solution("03_backward", PATHS)
    try:
        seen = lesson.answer(PATHS, PREORDER_REVERSED + "\n\n" + instructors)
        assert seen.visible and "which count_paths uses" in seen.visible, seen
    finally:  # put the instructor's topological_order back for the other cases
        assert lesson.answer(ORDER, solution("03_backward", ORDER)).passes
