"""Every layer says what a pydantic ValidationError found in the same words: `path: message`."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import AfterValidator, BaseModel, TypeAdapter, ValidationError

from mcp_anyreach.validation import Location, describe


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError(f"give a number from 1, not {value}")
    return value


class Item(BaseModel):
    phone_number: str
    count: Annotated[int, AfterValidator(_positive)] = 1


class Section(BaseModel):
    items: list[Item]


class Document(BaseModel):
    numbers: Section


def _error(model: type[BaseModel] | TypeAdapter[Any], data: object) -> ValidationError:
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    with pytest.raises(ValidationError) as raised:
        adapter.validate_python(data)
    return raised.value


def test_a_nested_problem_is_named_by_its_path_with_list_indexes_in_brackets() -> None:
    error = _error(Document, {"numbers": {"items": [{"phone_number": "+14155550100"}, {}]}})
    assert describe(error) == "numbers.items[1].phone_number: Field required"


def test_a_problem_with_the_value_itself_is_put_under_the_name_of_the_whole() -> None:
    error = _error(Document, ["not", "a", "mapping"])
    assert describe(error, whole="document") == "document: Input should be a valid dictionary or instance of Document"


def test_an_index_into_a_list_is_written_after_the_name_of_the_list() -> None:
    error = _error(TypeAdapter(list[Item]), [{"phone_number": "+14155550100"}, {"phone_number": 7}])
    assert describe(error, whole="operations") == "operations[1].phone_number: Input should be a valid string"


def test_the_message_of_a_validator_is_given_without_pydantic_boilerplate() -> None:
    error = _error(Item, {"phone_number": "+14155550100", "count": 0})
    assert describe(error) == "count: give a number from 1, not 0"


def test_problems_are_joined_by_the_separator_in_the_order_found() -> None:
    error = _error(Item, {"count": 0})
    assert describe(error) == "phone_number: Field required; count: give a number from 1, not 0"
    assert describe(error, separator="\n- ") == "phone_number: Field required\n- count: give a number from 1, not 0"


def test_problems_past_the_limit_are_counted_not_dropped_unsaid() -> None:
    items = [{}, {}, {}]
    error = _error(Section, {"items": items})
    assert describe(error, limit=1) == "items[0].phone_number: Field required; and 2 more problems"
    assert describe(error, limit=2).endswith("; and 1 more problem")
    assert describe(error, limit=3).count("Field required") == 3


def test_an_example_is_added_for_each_problem_from_its_location() -> None:
    asked: list[Location] = []

    def example(loc: Location) -> str:
        asked.append(loc)
        return '"+14155550100"'

    error = _error(Document, {"numbers": {"items": [{}]}})
    described = describe(error, example=example)
    assert (
        described
        == 'numbers.items[0].phone_number: Field required; for example numbers.items[0].phone_number="+14155550100"'
    )
    assert asked == [("numbers", "items", 0, "phone_number")]


def test_the_rejected_value_is_never_repeated() -> None:
    error = _error(Item, {"phone_number": "+14155550100", "count": "hunter2-secret"})
    assert "hunter2-secret" not in describe(error)
