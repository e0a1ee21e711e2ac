"""The purchase control of the page's own product, and what it says about stock."""

from __future__ import annotations

from dataclasses import dataclass

from tests.pagegen.base import Part, preorder_ok

ADD_LABELS = ("Add to Cart", "ADD TO CART", "Add to cart", "Add to Bag", "Buy Now")
BADGES = {
    "in_stock": ("In Stock", "In stock, ships in 1 business day", "Availability: In Stock", "Only 3 left in stock",
                 "Only 2 left!", "Low stock", "Hurry, only 5 left", "Limited stock available"),
    "out_of_stock": ("Out of Stock", "Sold Out", "Currently Unavailable", "Availability: Out of stock",
                     "Temporarily out of stock"),
    "preorder": ("Pre-Order: ships by March 20", "Presale item, ships in 4-6 weeks", "Pre-order"),
    "backorder": ("Backordered - ships in 3 weeks", "On backorder", "Available on backorder"),
}
NOTIFY_LABELS = ("Notify Me When Available", "Notify Me", "Email Me When Available", "Join the Waitlist")
SOLD_OUT_LABELS = ("Sold Out", "SOLD OUT", "Out of Stock")
PREORDER_LABELS = ("Pre-Order", "Pre-Order Now", "Preorder")
BACKORDER_LABELS = ("Backorder", "Add to Cart - Backorder")
SCHEMA_STATES = {"in_stock": "InStock", "out_of_stock": "OutOfStock", "preorder": "PreOrder", "backorder": "BackOrder"}
# Classes of buy controls on common platforms (button, submit input, link styled as a button).
CONTROL_CSS = {
    "button": ("btn btn-primary product-form__submit", "action primary tocart", "single_add_to_cart_button button alt",
               "add-to-cart-btn"),
    "input": ("button add-to-cart", "button button--primary"),
    "link": ("btn btn-primary product-action", "button", "add-to-cart-link"),
}


@dataclass(frozen=True)
class Stock(Part):
    """The purchase control (and an optional badge near the price). `state`:
    - "in_stock": an enabled "Add to Cart"/"Buy Now" button, submit input or button-styled link,
      maybe a badge ("In Stock", "Only 3 left in stock", "Low stock");
    - "out_of_stock": a disabled "Add to Cart" (disabled attribute, or aria-disabled with a
      "disabled" class), a "Sold Out"/"Out of Stock" button or a "Notify Me" control;
    - "preorder": a "Pre-Order" button, or "Add to Cart" with a pre-order badge;
    - "backorder": a "Backorder" button, or "Add to Cart" with a "Backordered - ships in 3 weeks" badge.
    The badge and any structured availability say the same. Answer: in stock for "in_stock",
    for "preorder" only where the vendor's catalog rules tolerate pre-orders (preorder_ok),
    otherwise not (DESIGN.md: back order and pre-order are stock phrases)."""

    state: str
    label: str
    control: str = "button"  # "button" | "input" | "link"
    disabled: str = ""  # "" | "attr" (disabled + aria-disabled) | "aria" (aria-disabled + a "disabled" class)
    badge: str | None = None
    css: int = 0

    @property
    def schema(self) -> str:
        """The schema.org ItemAvailability name of the state."""
        return SCHEMA_STATES[self.state]

    def in_stock_for(self, vendor: str) -> bool:
        """The in_stock flag a careful reader reports for this vendor."""
        return self.state == "in_stock" or (self.state == "preorder" and preorder_ok(vendor))

    @property
    def says_in_words(self) -> bool:
        """Readable without markup (markdown keeps no disabled attribute and no <input>): an
        in-stock page shows a buy label; any other state is named by the control's own label."""
        return self.control != "input" and (self.state == "in_stock" or self.label not in ADD_LABELS)

    def render(self) -> str:
        css = CONTROL_CSS[self.control][self.css]
        off = {"": "", "attr": ' disabled aria-disabled="true"', "aria": ' aria-disabled="true"'}[self.disabled]
        if self.disabled == "aria":
            css += " disabled"
        if self.control == "input":
            return f'<input type="submit" name="add" class="{css}" value="{self.label}"{off}>'
        if self.control == "link":
            return f'<a href="#buy" class="{css}"{off}>{self.label}</a>'
        return f'<button type="submit" name="add" class="{css}"{off}>{self.label}</button>'

    def variant(self) -> str:
        return f"{self.state}, {self.control}{', disabled ' + self.disabled if self.disabled else ''}"
